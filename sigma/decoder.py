"""The state of a batch of partial sequences being completed, and the model passes samplers need.

- `query`: one pass that asks for the distribution of many positions at once given what is settled
  (each query slot sees the settled slots and itself only): the one-pass conditional density.
- `verify`: one pass that reads candidate tokens along an order, slot after slot, so that each
  candidate is scored given the settled prefix and the earlier candidates. Several orders of the same
  row are verified in the same pass by pointing several batch entries at the same cache row.
- `chain`: verify and ask for the next positions' proposals in the same pass (the windowed samplers).

The first `query` also runs the known prefix (prefill), fused into the same forward pass.
Model calls and processed slots are counted per row, as if each row ran alone.

Rows in the same state compute once. Every row carries a lineage: rows with the same lineage hold the
same slots in their caches (the same known prefix read in the same order, then the same settled tokens
in the same order). A pass runs each distinct (lineage, slot inputs) entry once and hands its result to
every row that asked for it: N tries of one maze prefill the maze once, and two tries that drew the same
tokens so far share their passes until they part. The results are the same function of the same inputs,
so this changes no sample beyond float rounding.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from sigma.cache import KVCache
from sigma.model import SigmaGPT


class Slots(NamedTuple):
    """The keys/values a pass computed: per layer (k, v) [u, H, S, hd] of its distinct entries, and the
    kv row of each of the pass's entries (`entry` [b]; None when entry i is kv row i)."""

    kv: list[tuple[Tensor, Tensor]]
    entry: Tensor | None = None

    def rows_of(self, src: Tensor) -> Tensor:
        return src if self.entry is None else self.entry[src]


def _self_only(b: int, S: int, device) -> Tensor:
    return torch.eye(S, dtype=torch.bool, device=device).expand(b, S, S)


def _groups(key: Tensor) -> Tensor:
    """Group number [b] of each row of key [b, K]: equal rows, equal numbers."""
    if key.shape[0] < 2:
        return torch.zeros(key.shape[0], dtype=torch.long, device=key.device)
    return torch.unique(key, dim=0, return_inverse=True)[1]


def _distinct(key: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """(representatives [u], inverse [b]) of the distinct rows of key [b, K], or (None, None) if all differ:
    _distinct(tensor([[1], [2], [1]])) -> (tensor([0, 1]), tensor([0, 1, 0]))"""
    b = key.shape[0]
    if b < 2:
        return None, None
    unique, inverse = torch.unique(key, dim=0, return_inverse=True)
    if len(unique) == b:
        return None, None
    first = torch.full((len(unique),), b, dtype=torch.long, device=key.device)
    return first.scatter_reduce_(0, inverse, torch.arange(b, device=key.device), "amin"), inverse


class Decoder:
    def __init__(self, model: SigmaGPT, tokens: Tensor, known: Tensor, order: Tensor, forbid: Tensor | None = None):
        cfg = model.config
        B, T = tokens.shape
        self.model = model
        # tokens that may not be written at a position (bool, broadcast to [B, T, V]); every pass masks them,
        # so drafts and verification share one renormalised distribution and the samplers stay exact
        self.forbid = None if forbid is None else forbid.to(tokens.device).expand(B, T, cfg.vocab_size)
        self.tokens = tokens.clone()
        self.done = known.clone()
        self.order = order
        dtype = next(model.parameters()).dtype
        hd = cfg.n_embd // cfg.n_head
        self.cache = KVCache(cfg.n_layer, B, cfg.n_head, hd, max(T, 1), tokens.device, dtype)
        self.prefix = model.slots(tokens, order)  # slots along the full order; the first n_known are settled
        self.n_known = known.sum(dim=1)
        self.prefilled = torch.zeros(B, dtype=torch.bool, device=tokens.device)
        has_prefix = self.n_known > 0
        last_idx = (self.n_known - 1).clamp(min=0)
        last_pos = order.gather(1, last_idx[:, None])[:, 0]
        self.last_tok = torch.where(has_prefix, tokens.gather(1, last_pos[:, None])[:, 0], model.bos)
        self.last_pos = torch.where(has_prefix, last_pos, model.start)
        self.model_calls = torch.zeros(B, dtype=torch.long, device=tokens.device)
        self.processed = torch.zeros(B, dtype=torch.long, device=tokens.device)
        in_prefix = torch.arange(T, device=tokens.device)[None, :] < self.n_known[:, None]
        self.lineage = _groups(torch.cat([self.n_known[:, None], *(s * in_prefix for s in self.prefix)], dim=1))
        self.lineages = int(self.lineage.max()) + 1 if B else 0  # ids handed out so far

    # -- the passes -----------------------------------------------------------------------------

    def query(self, rows: Tensor, pos: Tensor, valid: Tensor) -> tuple[Tensor, Slots]:
        """Logits [b, R, V] for output positions pos [b, R] of `rows`, all from the same settled prefix,
        and the query slots' keys/values (a query slot is the next slot if its position comes next)."""
        b, R = pos.shape
        fresh = ~self.prefilled[rows]
        if fresh.any():
            if not fresh.all():
                raise RuntimeError("a query mixes rows with and without a settled prefix")
            return self._prefill_and_query(rows, pos, valid)
        in_tok = self.last_tok[rows, None].expand(b, R)
        in_pos = self.last_pos[rows, None].expand(b, R)
        key = torch.cat([in_tok[:, :1], in_pos[:, :1], pos * valid, valid], dim=1)
        logits, slots = self._pass(rows, key, in_tok, in_pos, pos, _self_only(b, R, pos.device))
        self._count(rows, valid.sum(dim=1))
        return self._allowed(rows, pos, logits), slots

    def verify(self, rows: Tensor, pos: Tensor, tok: Tensor, valid: Tensor) -> tuple[Tensor, Slots]:
        """Logits [b, m, V]: entry i scores position pos[:, i] after reading tok[:, :i] at pos[:, :i].
        `rows` may repeat a cache row, one entry per candidate order."""
        b, m = pos.shape
        in_tok = torch.cat([self.last_tok[rows, None], tok[:, :-1]], dim=1)
        in_pos = torch.cat([self.last_pos[rows, None], pos[:, :-1]], dim=1)
        causal = torch.ones(m, m, dtype=torch.bool, device=pos.device).tril()
        new_mask = (causal & valid[:, None, :]) | _self_only(b, m, pos.device)
        key = torch.cat([in_tok[:, :1], in_pos[:, :1], pos * valid, tok * valid, valid], dim=1)
        logits, slots = self._pass(rows, key, in_tok, in_pos, pos, new_mask)
        unique_rows = torch.unique(rows)
        self.model_calls[unique_rows] += 1
        self.processed.index_add_(0, rows, valid.sum(dim=1))
        return self._allowed(rows, pos, logits), slots

    def chain(self, rows: Tensor, pos: Tensor, tok: Tensor, n_chain: Tensor, extra: Tensor, extra_valid: Tensor):
        """Verify and look ahead in one pass, for the windowed samplers.

        Chain slots j < n_chain[i] read tok[:, :j] along pos [b, C] and give the distribution of
        pos[:, j] (slot 0 reads the last settled token: the exact next conditional). Extra slots read
        the same token as the row's last chain slot and ask for positions extra [b, R]: the
        distributions of those positions given the settled prefix and every chain token but the last
        chain slot's own output, in one pass. Logits [b, C + R, V]; the chain's keys/values come first."""
        b, C = pos.shape
        R = extra.shape[1]
        device = pos.device
        in_tok = torch.cat([self.last_tok[rows, None], tok[:, :-1]], dim=1)  # (b, C)
        in_pos = torch.cat([self.last_pos[rows, None], pos[:, :-1]], dim=1)
        last = (n_chain - 1).clamp(min=0)[:, None]
        x_tok = torch.cat([in_tok, in_tok.gather(1, last).expand(b, R)], dim=1)  # (b, C + R)
        x_pos = torch.cat([in_pos, in_pos.gather(1, last).expand(b, R)], dim=1)
        out_pos = torch.cat([pos, extra], dim=1)
        slot = torch.arange(C, device=device)[None, :]
        chain_valid = slot < n_chain[:, None]  # (b, C)
        causal = torch.ones(C, C, dtype=torch.bool, device=device).tril()
        chain_rows = causal & chain_valid[:, None, :]  # chain slot j sees chain slots <= j
        before_last = slot < (n_chain - 1)[:, None]
        extra_rows = before_last[:, None, :].expand(b, R, C)  # extra slots see the chain before its last slot
        blind = torch.zeros(b, C + R, R, dtype=torch.bool, device=device)  # no slot sees an extra slot but itself
        new = torch.cat([torch.cat([chain_rows, extra_rows], dim=1), blind], 2) | _self_only(b, C + R, device)
        # what the pass reads: the chain's positions, the tokens its slots read (not the last slot's own), extras
        key = torch.cat([x_tok[:, :1], x_pos[:, :1], pos * chain_valid, tok * before_last, n_chain[:, None]], dim=1)
        key = torch.cat([key, extra * extra_valid, extra_valid], dim=1)
        logits, slots = self._pass(rows, key, x_tok, x_pos, out_pos, new)
        self._count(rows, n_chain + extra_valid.sum(dim=1))
        return self._allowed(rows, out_pos, logits), slots

    # -- settling results -----------------------------------------------------------------------

    def settle(
        self,
        rows: Tensor,
        presents: Slots,
        src: Tensor,
        pos: Tensor,
        tok: Tensor,
        counts: Tensor,
        start: Tensor | None = None,
    ) -> None:
        """Fix the first counts[i] of pos/tok [b, S] in row rows[i], whose slots are entry src[i] of presents
        (from slot start[i] on, 0 by default)."""
        self.cache.append(rows, presents.kv, presents.rows_of(src), counts, start)
        S = pos.shape[1]
        take = torch.arange(S, device=pos.device)[None, :] < counts[:, None]
        # rows that held the same slots and append the same ones (read from the same last token) still do
        key = torch.cat(
            [self.lineage[rows, None], self.last_tok[rows, None], counts[:, None], pos * take, tok * take], 1
        )
        self.lineage[rows] = self.lineages + _groups(key)
        self.lineages = int(self.lineage.max()) + 1
        i_idx, j_idx = take.nonzero(as_tuple=True)
        self.tokens[rows[i_idx], pos[i_idx, j_idx]] = tok[i_idx, j_idx]
        self.done[rows[i_idx], pos[i_idx, j_idx]] = True
        last = (counts - 1).clamp(min=0)[:, None]
        moved = counts > 0
        self.last_pos[rows[moved]] = pos.gather(1, last)[moved, 0]
        self.last_tok[rows[moved]] = tok.gather(1, last)[moved, 0]

    def remaining(self, rows: Tensor) -> tuple[Tensor, Tensor]:
        """Unsettled positions of `rows` in each row's order, padded: pos [b, M] and valid [b, M]."""
        order = self.order[rows]
        pending = ~self.done[rows].gather(1, order)
        counts = pending.sum(dim=1)
        M = int(counts.max()) if len(rows) else 0
        first = (~pending).long().argsort(dim=1, stable=True)[:, :M]
        pos = order.gather(1, first)
        valid = torch.arange(M, device=pos.device)[None, :] < counts[:, None]
        return pos, valid

    def active_rows(self) -> Tensor:
        return (~self.done).any(dim=1).nonzero(as_tuple=True)[0]

    # -- internals ------------------------------------------------------------------------------

    def _pass(self, rows: Tensor, key: Tensor, in_tok: Tensor, in_pos: Tensor, out_pos: Tensor, new: Tensor):
        """One forward pass of new slots [b, S] over each row's cache, with `new` [b, S, S] the mask among
        the new slots; each distinct (lineage, key) entry runs once. (logits [b, S, V], Slots)."""
        rep, inverse = _distinct(torch.cat([self.lineage[rows, None], key], dim=1))
        if rep is not None:
            rows, in_tok, in_pos, out_pos, new = rows[rep], in_tok[rep], in_pos[rep], out_pos[rep], new[rep]
        past, past_valid = self.cache.view(rows)
        mask = torch.cat([past_valid[:, None, :].expand(-1, new.shape[1], -1), new], dim=2)
        logits, presents = self.model(in_tok, in_pos, out_pos, past, mask)
        return (logits if rep is None else logits[inverse]), Slots(presents, inverse)

    def _prefill_and_query(self, rows: Tensor, pos: Tensor, valid: Tensor) -> tuple[Tensor, Slots]:
        """The first query of `rows`, with their known prefix run in the same pass. Rows that share a
        prefix but ask for different positions run the prefix once on its own, then the query."""
        b, R = pos.shape
        n = self.n_known[rows]
        P = int(n.max())
        device = pos.device
        q_tok = self.last_tok[rows, None].expand(b, R)
        q_pos = self.last_pos[rows, None].expand(b, R)
        key = torch.cat([self.lineage[rows, None], q_tok[:, :1], q_pos[:, :1], pos * valid, valid], dim=1)
        rep, inverse = _distinct(key)
        distinct = b if rep is None else len(rep)
        if P and int(torch.unique(self.lineage[rows]).numel()) < distinct:
            self._prefill(rows, P)
            logits, slots = self.query(rows, pos, valid)
            self.processed[rows] += n
            return logits, slots
        all_rows, all_pos = rows, pos
        if rep is not None:
            rows, q_tok, q_pos, pos, n = rows[rep], q_tok[rep], q_pos[rep], pos[rep], n[rep]
        u = len(rows)
        in_tok, in_pos, pre_out = (s[rows, :P] for s in self.prefix)
        prefix_valid = torch.arange(P, device=device)[None, :] < n[:, None]  # [u, P]
        causal = torch.ones(P, P, dtype=torch.bool, device=device).tril()
        top = torch.cat([causal & prefix_valid[:, None, :], torch.zeros(u, P, R, dtype=torch.bool, device=device)], 2)
        bottom = torch.cat([prefix_valid[:, None, :].expand(u, R, P), _self_only(u, R, device)], dim=2)
        mask = torch.cat([top, bottom], dim=1) | _self_only(u, P + R, device)
        logits, presents = self.model(
            torch.cat([in_tok, q_tok], 1), torch.cat([in_pos, q_pos], 1), torch.cat([pre_out, pos], 1), None, mask
        )
        prefix_kv = [(k[:, :, :P], v[:, :, :P]) for k, v in presents]
        src = torch.arange(b, device=device) if inverse is None else inverse
        self.cache.append(all_rows, prefix_kv, src, self.n_known[all_rows])
        self.prefilled[all_rows] = True
        self._count(all_rows, self.n_known[all_rows] + valid.sum(dim=1))
        logits = logits[:, P:] if inverse is None else logits[inverse, P:]
        query_kv = [(k[:, :, P:], v[:, :, P:]) for k, v in presents]
        return self._allowed(all_rows, all_pos, logits), Slots(query_kv, inverse)

    def _prefill(self, rows: Tensor, P: int) -> None:
        """Run the known prefix of `rows` into their caches, once per distinct prefix (no query, no count)."""
        lineage = self.lineage[rows]
        rep, inverse = _distinct(lineage[:, None])
        reps = rows if rep is None else rows[rep]
        src = torch.arange(len(rows), device=rows.device) if inverse is None else inverse
        n = self.n_known[reps]
        in_tok, in_pos, out_pos = (s[reps, :P] for s in self.prefix)
        prefix_valid = torch.arange(P, device=rows.device)[None, :] < n[:, None]
        causal = torch.ones(P, P, dtype=torch.bool, device=rows.device).tril()
        mask = (causal & prefix_valid[:, None, :]) | _self_only(len(reps), P, rows.device)
        _, presents = self.model(in_tok, in_pos, out_pos, None, mask)
        self.cache.append(rows, presents, src, self.n_known[rows])
        self.prefilled[rows] = True

    def _allowed(self, rows: Tensor, pos: Tensor, logits: Tensor) -> Tensor:
        """Logits with the forbidden tokens of each output position at -inf."""
        if self.forbid is None:
            return logits
        banned = self.forbid[rows[:, None], pos.clamp(max=self.forbid.shape[1] - 1)]
        return logits.masked_fill(banned, float("-inf"))

    def _count(self, rows: Tensor, slots: Tensor) -> None:
        self.model_calls[rows] += 1
        self.processed[rows] += slots
