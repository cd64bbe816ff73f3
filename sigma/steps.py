"""One step of each sampler on the rows of a batch: sequential, burst (the paper's), exact and exact-confident,
windowed or not. `sigma.sampling.stream` drives a `SamplerRun` step by step; see its module docstring for what
each sampler does and what exact means.

Legend of the math names: p, the one-pass marginals (draft proposals); d, the drafts drawn from p; q, the
verify probabilities of each draft given the prefix and the earlier drafts of its order; a, the accepted prefix
(the leading run of u < q/p, or u < min(1, q/p)).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sigma import draws
from sigma.decoder import Decoder
from sigma.events import RowStep
from sigma.window import CALL_COST_SLOTS, MAX_WINDOW, REFRESH, Proposals, choose_window


def probabilities(logits: Tensor, temperature: float) -> Tensor:
    """Softmax at a temperature; 0 means greedy (a one-hot distribution), so exactness still holds."""
    if temperature <= 0:
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()
    logits = logits.float()
    if temperature >= 1e-3:  # logits / t stays finite: one pass
        return torch.softmax(logits / temperature if temperature != 1 else logits, dim=-1)
    # shifted so that a tiny temperature gives 0 / t = 0 and -x / t = -inf (a one-hot), never inf - inf
    return torch.softmax((logits - logits.amax(dim=-1, keepdim=True)) / temperature, dim=-1)


def _confidence(logits: Tensor) -> Tensor:
    """Max of the untempered distribution, so that greedy decoding can be ranked too: [..., V] -> [...]
    (exp(max - logsumexp): the softmax itself is never built)."""
    logits = logits.float()
    return (logits.amax(dim=-1) - logits.logsumexp(dim=-1)).exp()


def _residual(q: Tensor, p: Tensor) -> Tensor:
    """normalise(max(q - p, 0)), the distribution that makes a rejected draft exact (q itself where p
    covers q everywhere): q, p [..., V] -> [..., V], unnormalised."""
    residual = (q - p).clamp(min=0)
    return torch.where(residual.sum(-1, keepdim=True) > 0, residual, q)


def _leading_run(accept: Tensor) -> Tensor:
    return accept.long().cumprod(dim=-1).sum(dim=-1)


class SamplerRun:
    """One sampling run: the decoder plus the settings shared by every step.

    Randomness is per row (sigma.draws): each step hashes the row's seed and its own step count into a
    key, and every draw of the step is keyed by its purpose and index (a position, a chain slot), so a
    row's samples never depend on the other rows of the batch."""

    def __init__(self, dec: Decoder, sampler: str, order, temperature: float, num_orders: int, seeds, window):
        self.dec, self.sampler, self.order = dec, sampler, order
        self.temperature, self.num_orders, self.seeds = temperature, num_orders, seeds
        self.window = None if sampler == "sequential" else window
        B, T = dec.tokens.shape
        V = dec.model.config.vocab_size
        self.steps = torch.zeros(B, dtype=torch.long, device=dec.tokens.device)  # each row's own step count
        self.keys = self.steps  # this step's draw keys, per row of the step
        self.proposals = None if self.window is None else Proposals(B, T, V, dec.tokens.device)  # windowed only
        # each row's chain-rule log-likelihood of what it settled, along the order it settled in
        self.log_likelihood = torch.zeros(B, dtype=torch.float64, device=dec.tokens.device)
        device = dec.tokens.device.type
        measured = dec.model.config.call_cost_slots if device == "cpu" else None
        self.call_cost = measured or CALL_COST_SLOTS.get(device, CALL_COST_SLOTS["cuda"])

    def step(self, rows: Tensor) -> list[RowStep]:
        self.keys = draws.row_keys(self.seeds[rows], self.steps[rows])
        self.steps[rows] += 1
        if self.sampler == "sequential":
            return self._sequential(rows)
        if self.sampler == "burst":
            return self._burst(rows)
        confident = self.sampler == "exact-confident"
        if self.window is None:
            return self._exact(rows, confident)
        return self._windowed(rows, confident)

    def _score(self, rows: Tensor, logits: Tensor, tok: Tensor, counts: Tensor) -> None:
        """Add to each row's log-likelihood its settled tokens tok[i, :counts[i]] under the untempered
        logits [b, S, V] they were drawn or verified with: each slot's logits condition on the settled
        prefix and the slots before it, so the sum is the chain rule along the settle order."""
        logits = logits[:, : tok.shape[1]].float()
        lp = logits.gather(-1, tok[..., None])[..., 0] - logits.logsumexp(dim=-1)
        settled = torch.arange(tok.shape[1], device=tok.device)[None, :] < counts[:, None]
        self.log_likelihood.index_add_(0, rows, torch.where(settled, lp, 0.0).sum(dim=1).double())

    # -- draws: row i of the step draws with key self.keys[i] -----------------------------------

    def _uniform(self, purpose: int, index: Tensor, keys: Tensor | None = None) -> Tensor:
        return draws.uniform(self.keys if keys is None else keys, purpose, index)

    def _draw(self, p: Tensor, purpose: int, index: Tensor, keys: Tensor | None = None) -> Tensor:
        """One token per distribution p [b, S, V] (or [b, V]), keyed by index [b, S] (or [b])."""
        if index.dim() == 1:
            return draws.categorical(p, self._uniform(purpose, index[:, None], keys)[:, 0])
        return draws.categorical(p, self._uniform(purpose, index, keys))

    # -- samplers -------------------------------------------------------------------------------

    def _sequential(self, rows: Tensor) -> list[RowStep]:
        pos, _ = self.dec.remaining(rows)
        pos = pos[:, :1]
        ones = torch.ones_like(pos, dtype=torch.bool)
        logits, presents = self.dec.query(rows, pos, ones)
        p = probabilities(logits, self.temperature)
        tok = self._draw(p, draws.DRAFT, pos)
        counts = torch.ones(len(rows), dtype=torch.long, device=pos.device)
        self.dec.settle(rows, presents, torch.arange(len(rows), device=pos.device), pos, tok, counts)
        self._score(rows, logits, tok, counts)
        pd = p.gather(-1, tok[..., None])[..., 0]
        return self._describe(rows, pos, tok, pd, counts, counts)

    def _drafts(self, rows: Tensor, by_position: bool = False):
        """Draft every unsettled position from the one-pass marginals (each draw keyed by its position),
        listed in the order (or by position, for a confidence ranking to break its ties by)."""
        pos, valid = self.dec.remaining(rows)
        if by_position:
            pos = _by_position(pos, valid)
        logits, presents = self.dec.query(rows, pos, valid)
        p = probabilities(logits, self.temperature)
        return pos, valid, p, self._draw(p, draws.DRAFT, pos), presents, logits

    def _exact(self, rows: Tensor, confident: bool) -> list[RowStep]:
        """Unwindowed exact step: a query pass drafts every position, a verify pass reads them along the order.

        Legend: p marginals, d drafts, q verify distributions, a accepted drafts, m remaining."""
        pos, valid, p, d, q_presents, logits = self._drafts(rows, confident)
        if confident:  # sort by the model's own confidence (max of the untempered marginal, so that
            # greedy decoding is ordered too); never by the drafted values, which would bias them
            conf = _confidence(logits).masked_fill(~valid, -1.0)
            idx = conf.argsort(dim=1, descending=True, stable=True)
            pos, valid, d = pos.gather(1, idx), valid.gather(1, idx), d.gather(1, idx)
            p = p.gather(1, idx[..., None].expand_as(p))
            logits = logits.gather(1, idx[..., None].expand_as(logits))
        pd = p.gather(-1, d[..., None])[..., 0]
        m = valid.sum(dim=1)
        self._settle_singles(rows, m, pos, d, q_presents, logits)
        accepted, shown, replaced = m.clamp(max=1), m.clamp(max=1), d.clone()
        multi = (m > 1).nonzero(as_tuple=True)[0]
        if len(multi):
            vr, keys = rows[multi], self.keys[multi]
            logits, presents = self.dec.verify(vr, pos[multi], d[multi], valid[multi])
            q = probabilities(logits, self.temperature)
            q[:, 0] = p[multi, 0]  # the first verify slot is the draft's own query slot: q = p exactly
            qd = q.gather(-1, d[multi, :, None])[..., 0]
            u = self._uniform(draws.ACCEPT, _slots(qd), keys)
            accept = (u * pd[multi] < qd) & valid[multi]
            accept[:, 0] = True
            a = _leading_run(accept)
            tok = d[multi].clone()
            rejected = a < m[multi]
            self._resample(tok, rejected, a, q, p[multi], keys)
            counts = a + rejected.long()
            self.dec.settle(vr, presents, torch.arange(len(vr), device=vr.device), pos[multi], tok, counts)
            self._score(vr, logits, tok, counts)
            accepted[multi], shown[multi], replaced[multi] = a, m[multi], tok
        return self._describe(rows, pos, d, pd, accepted, shown, replaced)

    def _resample(self, tok: Tensor, rejected: Tensor, a: Tensor, q: Tensor, p: Tensor, keys: Tensor) -> None:
        """At each rejected row's first rejection a, a token from the residual of q and p [b, S, V]."""
        i = rejected.nonzero(as_tuple=True)[0]
        if len(i):
            j = a[i]
            tok[i, j] = self._draw(_residual(q[i, j], p[i, j]), draws.RESAMPLE, torch.zeros_like(j), keys[i])

    def _windowed(self, rows: Tensor, confident: bool) -> list[RowStep]:
        """Exact speculative step in one model call: draft the first k positions of the step's order from
        the kept proposals p, verify them along the chain (q), settle the accepted run plus one token
        (the residual sample at the first rejection, or a fresh draw from the slot after the last
        draft), and ask for the next positions' proposals in the same call.

        Legend: p proposals, d drafts, q chain distributions, a accepted drafts, k window, m remaining."""
        dec, props = self.dec, self.proposals
        pos, valid = dec.remaining(rows)  # (b, M) in the fixed order
        m = valid.sum(dim=1)
        if confident:  # rank by the proposals' confidence: never by drafted values, so exactness is kept
            pos = _by_position(pos, valid)  # ties (confidences of exactly 1) in position order, alike in every row
            conf = props.conf[rows[:, None], pos].masked_fill(~valid, -2.0)
            idx = conf.argsort(dim=1, descending=True, stable=True)
            pos, valid = pos.gather(1, idx), valid.gather(1, idx)
        if not dec.prefilled[rows].all():
            return self._first_query(rows, pos, valid, m, confident)
        available = _leading_run(props.has[rows[:, None], pos] & valid)
        limit = None if self.window == "auto" else int(self.window)
        k = choose_window(props.alpha(rows), available, self.call_cost, m if confident else None, limit)
        k = torch.maximum(k, available.clamp(max=1))  # one draft at least, so that α keeps being measured
        n_chain = k + (k < m).long()  # k drafts, then a fresh draw when a position is left after them
        C = int(n_chain.max())
        cpos = pos[:, :C]
        slot = torch.arange(C, device=pos.device)[None, :]
        drafting = slot < k[:, None]  # (b, C)
        p = props.p[rows[:, None], cpos]  # (b, C, V)
        p = torch.where(drafting[..., None], p, 1.0 / p.shape[-1])  # padding drafts nothing
        d = self._draw(p, draws.DRAFT, cpos)  # (b, C)
        extra, extra_valid = self._lookahead(pos, m, n_chain, k, confident)
        logits, presents = dec.chain(rows, cpos, d, n_chain, extra, extra_valid)
        q = probabilities(logits, self.temperature)  # (b, C + R, V)
        pd = p.gather(-1, d[..., None])[..., 0]
        qd = q[:, :C].gather(-1, d[..., None])[..., 0]
        u = self._uniform(draws.ACCEPT, slot.expand_as(qd))
        a = _leading_run((u * pd < qd) & drafting)  # (b,) accepted drafts
        tok = d.clone()
        self._resample(tok, a < k, a, q, p, self.keys)  # first rejection: resample from the residual
        fresh = ((a == k) & (k < m)).nonzero(as_tuple=True)[0]  # every draft kept: draw the next position
        if len(fresh):
            kf = k[fresh]
            tok[fresh, kf] = self._draw(q[fresh, kf], draws.FRESH, torch.zeros_like(kf), self.keys[fresh])
        counts = torch.where(a < k, a + 1, n_chain)
        dec.settle(rows, presents, torch.arange(len(rows), device=pos.device), cpos, tok, counts)
        self._score(rows, logits, tok, counts)
        props.record(rows, a, torch.minimum(a + 1, k))
        conf = _confidence(logits)
        stale = (slot >= counts[:, None]) & drafting  # chain past the settled
        props.store(rows, torch.cat([cpos, extra], 1), torch.cat([stale, extra_valid], 1), q, conf)
        # the fresh draw reads as one more draft, with p = q, always accepted
        if len(fresh):
            d[fresh, kf] = tok[fresh, kf]
            pd[fresh, kf] = q[fresh, kf].gather(-1, tok[fresh, kf, None])[:, 0]
        more = ((a == k) & (k < m)).long()
        return self._describe(rows, cpos, d, pd, a + more, k + more, tok)

    def _lookahead(self, pos: Tensor, m: Tensor, n_chain: Tensor, k: Tensor, confident: bool):
        """Positions whose proposals a windowed call refreshes: those after the chain in the step's order,
        as many as the next window may draft (k + 1), and at least REFRESH when ranked by confidence."""
        want = (k + 1).clamp(min=REFRESH) if confident else k + 1
        want = torch.minimum(want, m - n_chain)  # never pad past what is left
        R = int(want.max())
        ahead = torch.arange(R, device=pos.device)[None, :]
        j = n_chain[:, None] + ahead
        ok = ahead < want[:, None]  # want <= m - n_chain, so j < m wherever ok
        return pos.gather(1, j.clamp(max=pos.shape[1] - 1)), ok

    def _first_query(self, rows: Tensor, pos: Tensor, valid: Tensor, m: Tensor, confident: bool) -> list[RowStep]:
        """The first call (prefill fused): ask for every position (ranked by confidence) or for the
        first window's worth (fixed order); settle one token drawn from its exact conditional."""
        dec, props = self.dec, self.proposals
        ar = torch.arange(len(rows), device=pos.device)
        S = pos.shape[1] if confident else min(pos.shape[1], MAX_WINDOW + 1)
        logits, presents = dec.query(rows, pos[:, :S], valid[:, :S])
        q = probabilities(logits, self.temperature)
        conf = _confidence(logits).masked_fill(~valid[:, :S], -1.0)
        first = conf.argmax(dim=1) if confident else torch.zeros_like(m)  # the position settled now
        settled = pos[ar, first][:, None]
        tok = self._draw(q[ar, first][:, None], draws.DRAFT, settled)
        one = torch.ones_like(m)
        dec.settle(rows, presents, ar, settled, tok, one, start=first)
        self._score(rows, logits[ar, first][:, None], tok, one)
        props.store(rows, pos[:, :S], valid[:, :S], q, conf)
        pd = q[ar, first].gather(-1, tok)
        return self._describe(rows, settled, tok, pd, one, one)

    def _burst(self, rows: Tensor) -> list[RowStep]:
        """The paper's step: drafts from the marginals, N orders verified in one pass, the longest run kept.

        The candidate orders and the window come first (they never look at drafted values), so the query asks
        only for the positions some order verifies: the drafts it skips would never be read. Each draft is keyed
        by its position, so the step is the one a query of every position would take."""
        dec = self.dec
        pos, valid = dec.remaining(rows)
        m = valid.sum(dim=1)
        b, M = pos.shape
        T = dec.tokens.shape[1]
        N = self.num_orders if self.order == "random" else 1  # a fixed policy has one order
        if N == 1 and self.order != "random":
            key = torch.arange(M, device=pos.device, dtype=torch.float64).expand(b, N, M).clone()
        else:  # each candidate order keyed by (order, position), so padding never shifts a row's draws
            key = self._uniform(draws.ORDERS, torch.arange(N, device=pos.device)[None, :, None] * T + pos[:, None, :])
        idx = (key + (~valid[:, None, :]).double() * 2).argsort(dim=2)  # [b, N, M]: each row's candidate orders
        o_pos = pos[:, None, :].expand(b, N, M).gather(2, idx)
        o_valid = valid[:, None, :].expand(b, N, M).gather(2, idx)
        cut = m  # drafts verified along each order
        if self.window is not None:  # only the first k drafts of every order
            limit = None if self.window == "auto" else int(self.window)
            cut = choose_window(self.proposals.alpha(rows), m, self.call_cost, limit=limit).clamp(min=1)
        K = int(cut.max())
        o_pos = o_pos[..., :K]
        o_valid = o_valid[..., :K] & (torch.arange(K, device=pos.device) < cut[:, None, None])
        q_pos, q_valid = _distinct_positions(o_pos, o_valid, T)  # the query: what some order verifies
        q_logits, q_presents = dec.query(rows, q_pos, q_valid)
        p = probabilities(q_logits, self.temperature)
        d = self._draw(p, draws.DRAFT, q_pos)
        pd = p.gather(-1, d[..., None])[..., 0]
        self._settle_singles(rows, m, q_pos, d, q_presents, q_logits)
        s_pos, s_d, s_pd = q_pos[:, :1].clone(), d[:, :1].clone(), pd[:, :1].clone()  # what each row shows
        accepted, shown = torch.ones_like(m), torch.ones_like(m)
        multi = (m > 1).nonzero(as_tuple=True)[0]
        if len(multi):
            at = _slots_of(o_pos, q_pos, q_valid, T)  # each order's drafts, read from the query's slots
            o_d, o_pd = d.gather(1, at).view(b, N, K), pd.gather(1, at).view(b, N, K)
            bm = len(multi)
            flat_of = lambda t: t[multi].reshape(bm * N, K)
            m_pos, m_d, m_pd, m_valid = flat_of(o_pos), flat_of(o_d), flat_of(o_pd), flat_of(o_valid)
            vr = rows[multi].repeat_interleave(N)  # each order reads its row's cache
            logits, presents = dec.verify(vr, m_pos, m_d, m_valid)
            q = probabilities(logits, self.temperature)
            qd = q.gather(-1, m_d[..., None])[..., 0]
            index = torch.arange(N, device=pos.device)[None, :, None] * T + torch.arange(K, device=pos.device)
            u = self._uniform(draws.ACCEPT, index.expand(bm, N, K), self.keys[multi]).reshape(bm * N, K)
            accept = (u * m_pd < qd) & m_valid
            accept[:, 0] = True  # the first slot of every order is a draft's own query: q = p
            a = _leading_run(accept).view(bm, N)
            best = a.argmax(dim=1)
            flat = torch.arange(bm, device=pos.device) * N + best
            counts = a.gather(1, best[:, None])[:, 0]
            dec.settle(rows[multi], presents, flat, m_pos[flat], m_d[flat], counts)
            self._score(rows[multi], logits[flat], m_d[flat], counts)
            if self.proposals is not None:  # windowed: the acceptance history sizes the next window
                self.proposals.record(rows[multi], counts - 1, torch.minimum(counts, cut[multi] - 1))  # first free
            s_pos, s_d, s_pd = (torch.cat([t, t.new_zeros(b, K - 1)], 1) for t in (s_pos, s_d, s_pd))
            s_pos[multi], s_d[multi], s_pd[multi] = m_pos[flat], m_d[flat], m_pd[flat]
            accepted[multi], shown[multi] = counts, cut[multi]
        return self._describe(rows, s_pos, s_d, s_pd, accepted, shown)

    def _settle_singles(self, rows, m, pos, d, q_presents, logits) -> None:
        """Rows with one unsettled position take their draft outright (q = p): one call, one token.
        Their lone valid query slot is first in any layout, so the query's keys/values serve as is."""
        single = (m == 1).nonzero(as_tuple=True)[0]
        if len(single):
            ones = torch.ones(len(single), dtype=torch.long, device=pos.device)
            self.dec.settle(rows[single], q_presents, single, pos[single], d[single], ones)
            self._score(rows[single], logits[single], d[single], ones)

    def _describe(self, rows, pos, tok, pd, accepted, shown, replacement=None) -> list[RowStep]:
        """What each row did this step: row i drafted pos/tok/pd[i, :shown[i]] [b, *] and kept the first
        accepted[i]; replacement[i] holds the token settled at the first rejection (exact samplers)."""
        dec = self.dec
        W = int(shown.max())
        calls, done = dec.model_calls[rows].tolist(), (dec.done[rows].sum(1) - dec.n_known[rows]).tolist()
        finished = dec.done[rows].all(dim=1).tolist()
        pos_l, tok_l, pd_l = pos[:, :W].tolist(), tok[:, :W].tolist(), pd[:, :W].tolist()
        rep_l = None if replacement is None else replacement[:, :W].tolist()
        out = []
        for i, (row, a, m) in enumerate(zip(rows.tolist(), accepted.tolist(), shown.tolist(), strict=True)):
            drafted = pos_l[i][:m]
            step = RowStep(
                row=row,
                drafted=drafted,
                draft_tokens=tok_l[i][:m],
                draft_probs=[round(x, 6) for x in pd_l[i][:m]],
                accepted=drafted[:a],
                model_calls=calls[i],
                tokens_done=done[i],
                finished=finished[i],
            )
            if a < m:
                step.rejected, step.rejected_token = drafted[a], tok_l[i][a]
                if rep_l is not None:
                    step.replacement_token = rep_l[i][a]
            out.append(step)
        return out


def _by_position(pos: Tensor, valid: Tensor) -> Tensor:
    """Each row's valid positions pos [b, M] in ascending order, padding kept at the end (valid is a
    leading run): _by_position(tensor([[5, 2, 0]]), tensor([[True, True, False]])) -> tensor([[2, 5, 0]])"""
    pad = torch.iinfo(pos.dtype).max
    return pos.masked_fill(~valid, pad).sort(dim=1).values.masked_fill(~valid, 0)


def _distinct_positions(pos: Tensor, valid: Tensor, T: int) -> tuple[Tensor, Tensor]:
    """Each row's distinct positions among pos [b, ...] where valid, ascending and padded: (pos [b, U], valid
    [b, U]). _distinct_positions(tensor([[[4, 1], [1, 0]]]), tensor([[[True, True], [True, False]]]), 5)
    -> (tensor([[1, 4]]), tensor([[True, True]]))"""
    b = pos.shape[0]
    wanted = torch.zeros(b, T + 1, dtype=torch.bool, device=pos.device)
    wanted.scatter_(1, torch.where(valid, pos, T).reshape(b, -1), True)
    U = int(wanted[:, :T].sum(dim=1).max())
    listed = torch.where(wanted[:, :T], torch.arange(T, device=pos.device), T).sort(dim=1).values[:, :U]
    return listed.masked_fill(listed == T, 0), listed < T


def _slots_of(pos: Tensor, listed: Tensor, listed_valid: Tensor, T: int) -> Tensor:
    """The index in listed [b, U] of each of pos [b, ...] (flattened to [b, n]); 0 where it is not listed."""
    b, U = listed.shape
    slot = torch.zeros(b, T + 1, dtype=torch.long, device=pos.device)
    slot.scatter_(1, torch.where(listed_valid, listed, T), torch.arange(U, device=pos.device).expand(b, U))
    return slot.gather(1, pos.reshape(b, -1))


def _slots(x: Tensor) -> Tensor:
    """Slot indices [b, S] shaped like x [b, S]."""
    return torch.arange(x.shape[1], device=x.device).expand_as(x)
