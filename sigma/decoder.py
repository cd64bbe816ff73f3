"""The state of a batch of partial sequences being completed, and the two model passes samplers need.

- `query`: one pass that asks for the distribution of many positions at once given what is settled
  (each query slot sees the settled slots and itself only): the one-pass conditional density.
- `verify`: one pass that reads candidate tokens along an order, slot after slot, so that each
  candidate is scored given the settled prefix and the earlier candidates. Several orders of the same
  row are verified in the same pass by pointing several batch entries at the same cache row.

The first `query` also runs the known prefix (prefill), fused into the same forward pass.
Model calls and processed slots are counted per row.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sigma.cache import KVCache
from sigma.model import SigmaGPT


def _self_only(b: int, S: int, device) -> Tensor:
    return torch.eye(S, dtype=torch.bool, device=device).expand(b, S, S)


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

    # -- the two passes -------------------------------------------------------------------------

    def query(self, rows: Tensor, pos: Tensor, valid: Tensor):
        """Logits [b, R, V] for output positions pos [b, R] of `rows`, all from the same settled prefix,
        and the query slots' keys/values (a query slot is the next slot if its position comes next)."""
        b, R = pos.shape
        in_tok = self.last_tok[rows, None].expand(b, R)
        in_pos = self.last_pos[rows, None].expand(b, R)
        fresh = ~self.prefilled[rows]
        if fresh.any():
            if not fresh.all():
                raise RuntimeError("a query mixes rows with and without a settled prefix")
            return self._prefill_and_query(rows, in_tok, in_pos, pos, valid)
        past, past_valid = self.cache.view(rows)
        mask = torch.cat([past_valid[:, None, :].expand(b, R, -1), _self_only(b, R, pos.device)], dim=2)
        logits, presents = self.model(in_tok, in_pos, pos, past, mask)
        self._count(rows, valid.sum(dim=1))
        return self._allowed(rows, pos, logits), presents

    def verify(self, rows: Tensor, pos: Tensor, tok: Tensor, valid: Tensor):
        """Logits [b, m, V]: entry i scores position pos[:, i] after reading tok[:, :i] at pos[:, :i].
        `rows` may repeat a cache row, one entry per candidate order."""
        b, m = pos.shape
        in_tok = torch.cat([self.last_tok[rows, None], tok[:, :-1]], dim=1)
        in_pos = torch.cat([self.last_pos[rows, None], pos[:, :-1]], dim=1)
        past, past_valid = self.cache.view(rows)
        causal = torch.ones(m, m, dtype=torch.bool, device=pos.device).tril()
        new_mask = (causal & valid[:, None, :]) | _self_only(b, m, pos.device)
        mask = torch.cat([past_valid[:, None, :].expand(b, m, -1), new_mask], dim=2)
        logits, presents = self.model(in_tok, in_pos, pos, past, mask)
        unique_rows = torch.unique(rows)
        self.model_calls[unique_rows] += 1
        self.processed.index_add_(0, rows, valid.sum(dim=1))
        return self._allowed(rows, pos, logits), presents

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
        chain_valid = torch.arange(C, device=device)[None, :] < n_chain[:, None]  # (b, C)
        causal = torch.ones(C, C, dtype=torch.bool, device=device).tril()
        chain_rows = causal & chain_valid[:, None, :]  # chain slot j sees chain slots <= j
        before_last = torch.arange(C, device=device)[None, :] < (n_chain - 1)[:, None]
        extra_rows = before_last[:, None, :].expand(b, R, C)  # extra slots see the chain before its last slot
        blind = torch.zeros(b, C + R, R, dtype=torch.bool, device=device)  # no slot sees an extra slot but itself
        new = torch.cat([torch.cat([chain_rows, extra_rows], dim=1), blind], 2) | _self_only(b, C + R, device)
        past, past_valid = self.cache.view(rows)
        mask = torch.cat([past_valid[:, None, :].expand(b, C + R, -1), new], dim=2)
        logits, presents = self.model(x_tok, x_pos, out_pos, past, mask)
        self._count(rows, n_chain + extra_valid.sum(dim=1))
        return self._allowed(rows, out_pos, logits), presents

    # -- settling results -----------------------------------------------------------------------

    def settle(self, rows: Tensor, presents, src: Tensor, pos: Tensor, tok: Tensor, counts: Tensor) -> None:
        """Fix the first counts[i] of pos/tok [b, S] in row rows[i], whose slots are entry src[i] of presents."""
        self.cache.append(rows, presents, src, counts)
        S = pos.shape[1]
        take = torch.arange(S, device=pos.device)[None, :] < counts[:, None]
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

    def _prefill_and_query(self, rows, q_tok, q_pos, out_pos, valid):
        b, R = out_pos.shape
        n = self.n_known[rows]
        P = int(n.max())
        in_tok, in_pos, pre_out = (s[rows, :P] for s in self.prefix)
        device = out_pos.device
        prefix_valid = torch.arange(P, device=device)[None, :] < n[:, None]  # [b, P]
        causal = torch.ones(P, P, dtype=torch.bool, device=device).tril()
        top = torch.cat([causal & prefix_valid[:, None, :], torch.zeros(b, P, R, dtype=torch.bool, device=device)], 2)
        bottom = torch.cat([prefix_valid[:, None, :].expand(b, R, P), _self_only(b, R, device)], dim=2)
        mask = torch.cat([top, bottom], dim=1) | _self_only(b, P + R, device)
        logits, presents = self.model(
            torch.cat([in_tok, q_tok], 1), torch.cat([in_pos, q_pos], 1), torch.cat([pre_out, out_pos], 1), None, mask
        )
        prefix_kv = [(k[:, :, :P], v[:, :, :P]) for k, v in presents]
        self.cache.append(rows, prefix_kv, torch.arange(b, device=device), n)
        self.prefilled[rows] = True
        self._count(rows, n + valid.sum(dim=1))
        return self._allowed(rows, out_pos, logits[:, P:]), [(k[:, :, P:], v[:, :, P:]) for k, v in presents]

    def _allowed(self, rows: Tensor, pos: Tensor, logits: Tensor) -> Tensor:
        """Logits with the forbidden tokens of each output position at -inf."""
        if self.forbid is None:
            return logits
        banned = self.forbid[rows[:, None], pos.clamp(max=self.forbid.shape[1] - 1)]
        return logits.masked_fill(banned, float("-inf"))

    def _count(self, rows: Tensor, slots: Tensor) -> None:
        self.model_calls[rows] += 1
        self.processed[rows] += slots
