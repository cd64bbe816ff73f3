"""The About tab's text: what σ-GPT is and what the samplers do, in a few paragraphs."""

ABOUT = """
## σ-GPT in short

A GPT reads a sequence left to right and predicts the next token. **σ-GPT** (Pannatier, Courdier and
Fleuret, [*σ-GPTs: A New Approach to Autoregressive Models*, arXiv 2404.09562](https://arxiv.org/abs/2404.09562))
shuffles the order instead: for a random permutation σ, the model reads the tokens in the order σ and
predicts each next one. To know *what* it reads and *where* it must write, every input carries **two
positional encodings**: the position of the token it reads and the position of the token it must predict
(concatenated, each half the width).

**Why any order.** Trained over random orders, one model can condition on any subset of tokens (pins in a
maze, words kept in a text) and fill the rest in any order. It also gives, in one pass, the distribution of
*every* unknown position given the known ones — the *Inspect* heatmap.

**Burst sampling (the paper).** Draft every unknown position at once from those one-pass distributions,
then check the drafts along a few random orders in one batched pass: each draft is kept while a uniform
draw is below q/p (q: its probability given the earlier drafts in that order). The order that keeps most
wins. Many tokens settle per model call, but the samples are not exactly the model's.

**Exact mode** (any-subset speculative decoding: Guo & Ermon, [*Reviving Any-Subset Autoregressive Models
with Principled Parallel Sampling and Speculative Decoding*, arXiv 2504.20456](https://arxiv.org/abs/2504.20456),
2025): one
order per step, keep draft i while u < min(1, q/p), and at the first rejection resample that position from
the normalised max(q − p, 0). The samples then follow the model's own chain-rule joint exactly, and never
use more model calls than one-token-at-a-time decoding. *Exact-confident* checks the most confident drafts
first, which stays exact because the order looks at p only.

**Verified tries** (the maze and text tabs). A maze path can be checked: one simple path from S to G that keeps
every pin, or not. A fill can be checked too: every word it touches is a word of the plays the model was trained
on, or not. So these tabs draw several candidates in one batch (*Tries*), check each, and show the valid one the
model itself finds likeliest; the strip under the board or passage shows every try, and the verdict says how many
were valid. When none of the maze's tries is valid, it draws 8 more in random orders at temperature 1 (the exact
sampler), which go wrong in other ways than the confidence order does, and the verdict says so. Each try is a
sample; keeping the best valid one is *selection*, so the answer shown is no longer a sample of the model's
distribution. Set Tries to 1 to see single samples.

In the maze and text tabs, watch drafts (amber) turn solid when accepted (green), rejected drafts flash
red, and their replacements appear (violet); the counter compares model calls with the one-token-at-a-time
baseline.
"""
