"""Cached decoding must equal a full forward pass; one-pass queries must equal single queries."""

import pytest
import torch

from sigma.decoder import Decoder
from sigma.orders import make_order

TOL = dict(atol=2e-4, rtol=1e-4)  # float32 sums taken in another order


def full_logits(model, tokens, order):
    in_tok, in_pos, out_pos = model.slots(tokens, order)
    logits, _ = model(in_tok, in_pos, out_pos)
    return logits


@pytest.mark.parametrize("n_known", [0, 1, 5])
def test_verify_after_prefill_equals_full_forward(small_model, n_known):
    torch.manual_seed(1)
    B, T = 3, 12
    tokens = torch.randint(0, 11, (B, T))
    known = torch.zeros(B, T, dtype=torch.bool)
    known[:, torch.randperm(T)[:n_known]] = True
    order = make_order("random", known, torch.Generator().manual_seed(2))
    reference = full_logits(small_model, tokens, order)
    with torch.no_grad():
        dec = Decoder(small_model, tokens, known, order)
        rows = torch.arange(B)
        pos, valid = dec.remaining(rows)
        assert torch.equal(pos, order[:, n_known:])
        q_logits, _ = dec.query(rows, pos[:, :1], valid[:, :1])  # runs the prefix
        torch.testing.assert_close(q_logits[:, 0], reference[:, n_known], **TOL)
        logits, _ = dec.verify(rows, pos, tokens.gather(1, pos), valid)
    torch.testing.assert_close(logits, reference[:, n_known:], **TOL)


def test_settled_slots_keep_cache_equal_to_full_forward(small_model):
    """Settle ragged numbers of slots per row over several steps, then check the next query."""
    torch.manual_seed(3)
    B, T = 2, 12
    tokens = torch.randint(0, 11, (B, T))
    known = torch.zeros(B, T, dtype=torch.bool)
    known[:, :2] = True
    order = make_order("fractal", known)
    reference = full_logits(small_model, tokens, order)
    with torch.no_grad():
        dec = Decoder(small_model, tokens, known, order)
        rows = torch.arange(B)
        for counts in ([3, 1], [2, 4]):
            pos, valid = dec.remaining(rows)
            if not dec.prefilled.all():
                dec.query(rows, pos[:, :1], valid[:, :1])
            _, presents = dec.verify(rows, pos, tokens.gather(1, pos), valid)
            c = torch.tensor(counts)
            dec.settle(rows, presents, rows, pos, tokens.gather(1, pos), c)
        settled = known.sum(1) + torch.tensor([5, 5])
        pos, valid = dec.remaining(rows)
        logits, _ = dec.query(rows, pos[:, :1], valid[:, :1])
    for b in range(B):
        torch.testing.assert_close(logits[b, 0], reference[b, int(settled[b])], **TOL)


def test_one_pass_queries_equal_single_queries(small_model):
    torch.manual_seed(4)
    B, T = 2, 12
    tokens = torch.randint(0, 11, (B, T))
    known = torch.rand(B, T) < 0.4
    order = make_order("random", known, torch.Generator().manual_seed(5))
    with torch.no_grad():
        dec = Decoder(small_model, tokens, known, order)
        rows = torch.arange(B)
        pos, valid = dec.remaining(rows)
        together, _ = dec.query(rows, pos, valid)
        for j in range(pos.shape[1]):
            single, _ = dec.query(rows, pos[:, j : j + 1], valid[:, j : j + 1])
            for b in range(B):
                if valid[b, j]:
                    torch.testing.assert_close(together[b, j], single[b, 0], **TOL)


def test_chain_pass_equals_full_forward_for_chain_and_extra_slots(small_model):
    """Chain slot j = the full pass's slot along the order; an extra slot = the full pass along an order
    that reads the chain (all but its last slot's output) and then asks for the extra position."""
    torch.manual_seed(6)
    B, T = 2, 12
    tokens = torch.randint(0, 11, (B, T))
    known = torch.zeros(B, T, dtype=torch.bool)
    known[:, :3] = True
    order = make_order("random", known, torch.Generator().manual_seed(7))
    reference = full_logits(small_model, tokens, order)
    n_chain = torch.tensor([4, 2])
    with torch.no_grad():
        dec = Decoder(small_model, tokens, known, order)
        rows = torch.arange(B)
        pos, valid = dec.remaining(rows)
        _, presents = dec.query(rows, pos[:, :1], valid[:, :1])
        dec.settle(rows, presents, rows, pos[:, :1], tokens.gather(1, pos[:, :1]), torch.ones(B, dtype=torch.long))
        pos, valid = dec.remaining(rows)  # 8 left: chain over the first n_chain, extras two further on
        extra = torch.stack([pos[0, [5, 7]], pos[1, [4, 6]]])
        logits, _ = dec.chain(
            rows, pos[:, :4], tokens.gather(1, pos[:, :4]), n_chain, extra, torch.ones(B, 2, dtype=torch.bool)
        )
    for b in range(B):
        n = int(n_chain[b])
        torch.testing.assert_close(logits[b, :n], reference[b, 4 : 4 + n], **TOL)
        for e in range(2):  # swap the extra position in right after the chain's last read token
            swapped = order[b].clone()
            target = int(extra[b, e])
            rest = [p for p in swapped.tolist() if p != target]
            swapped = torch.tensor(rest[: 3 + n] + [target] + rest[3 + n :])
            ref = full_logits(small_model, tokens[b : b + 1], swapped[None])
            torch.testing.assert_close(logits[b, 4 + e], ref[0, 3 + n], **TOL)
