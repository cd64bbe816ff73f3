"""`python -m train.text_samples CHECKPOINT`: the infills shown in the text model cards.

Famous lines from validation plays (never trained on); each {braced} phrase is blanked with as many tokens as it had,
then filled by the chosen sampler (exact by default), one seed per passage. With `--held-out N`, instead N passages
of the held-out plays with a phrase of 2-5 words blanked inside a line (`train.text_measures.blanked_phrases`),
filled with the app's default settings (line breaks forbidden inside a line, as the app does).
"""

from __future__ import annotations

import argparse
import re

import torch

from sigma import SigmaGPT
from sigma.sampling import sample
from sigma.tasks.text import TASK, encode, show_fill
from train.text_measures import blanked_phrases, fill_phrases, real_word_rate

PASSAGES = [
    "ANTONY:\nFriends, Romans, countrymen, lend me your{ ears};\nI come to{ bury} Caesar, not to praise him.\n"
    "The evil that men do{ lives after} them;\nThe good is oft{ interred with their bones};\nSo let it be with Caesar.",
    "DOMITIUS ENOBARBUS:\nThe barge she sat in, like a burnish'd{ throne},\n"
    "Burn'd on the water: the poop was{ beaten gold};\n"
    "Purple the{ sails, and so perfumed} that\nThe winds were{ love-sick} with them;",
    "SALISBURY:\nTo gild refined gold, to{ paint the lily},\nTo throw a{ perfume on the violet},\n"
    "To smooth the ice, or add another hue\nUnto the{ rainbow}, or with taper-light\n"
    "To seek the{ beauteous eye of heaven} to garnish,",
]


def blank(passage: str) -> str:
    """The passage with each {phrase} replaced by a blank of as many tokens as the phrase."""
    return re.sub(r"\{([^}]*)\}", lambda m: "[" + "_" * len(encode(m.group(1))) + "]", passage)


def held_out(model: SigmaGPT, n: int) -> None:
    """n held-out passages, each with a phrase blanked inside a line, filled as the app fills them."""
    phrases = blanked_phrases(n, seed=7, max_chars=300)
    figures = fill_phrases(model, phrases, TASK.defaults)
    s = TASK.defaults
    print(
        f"{n} held-out phrases filled with {s.sampler}, {s.order} order, temperature {s.temperature}, seeds 0-{n - 1}"
    )
    print(f"(real-word rate of these fills: {real_word_rate(figures.words):.1%})\n")
    for phrase, fill in zip(phrases, figures.fills, strict=True):
        line = next(line for line in phrase.passage.splitlines() if "{" in line)
        shown = line.replace(" {", "{").replace("{" + phrase.phrase + "}", "[" + fill + "]")  # the space is in the fill
        print(f"{shown}\n    (original: {phrase.phrase})")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m train.text_samples", description=__doc__)
    p.add_argument("checkpoint", nargs="?", default="checkpoints/text")
    p.add_argument("--order", default="random")
    p.add_argument("--sampler", "--method", default="exact", help="sequential, burst, exact or exact-confident")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--held-out", type=int, default=0, metavar="N", help="N blanked held-out phrases instead")
    args = p.parse_args()
    torch.set_num_threads(1)
    model = SigmaGPT.from_pretrained(args.checkpoint).eval()
    if args.held_out:
        held_out(model, args.held_out)
        return
    for seed, passage in enumerate(PASSAGES):
        text = blank(passage)
        passage = TASK.parse(text, model)
        tokens, known = TASK.encode(passage)
        settings = {"sampler": args.sampler, "order": args.order, "temperature": args.temperature, "seed": seed}
        out = sample(model, tokens, known, **settings, forbid=TASK.forbid(passage))  # as the app: no mid-line breaks
        calls, n, steps = int(out.model_calls[0]), int((~known).sum()), int(out.steps[0])
        print(f"--- input:\n{text}")
        print(f"--- filled ({args.sampler}, {args.order} order, {calls} model calls for {n} tokens, {steps} steps):")
        print(f"{show_fill(out.tokens[0], known)}\n")


if __name__ == "__main__":
    main()
