"""A ragged key/value cache: each row of a batch holds its own number of settled slots.

Rows advance at their own pace (a burst may settle 7 tokens in one row and 1 in another), so the
buffer is padded to a fixed capacity and every read returns a validity mask next to the keys.
Keys carry no position of their own (positions live in the embeddings), so where a slot is stored
in the buffer does not matter, only which rows see it.
"""

from __future__ import annotations

import torch
from torch import Tensor


class KVCache:
    """Keys and values [n_layer, B, capacity, H, hd]: a row's slots lie side by side, so that settling
    slots is one gather and one copy for all layers."""

    def __init__(self, n_layer: int, batch: int, n_head: int, head_dim: int, capacity: int, device, dtype):
        shape = (n_layer, batch, capacity, n_head, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.length = torch.zeros(batch, dtype=torch.long, device=device)

    def view(self, rows: Tensor) -> tuple[list[tuple[Tensor, Tensor]], Tensor]:
        """Per-layer (k, v) [b, H, L, hd] for `rows` (repeats allowed: that branches the cache),
        and valid [b, L] marking which of the L entries each row really holds. Reading every row in
        order is a view of the buffer, any other selection a copy."""
        lengths = self.length[rows]
        L = int(lengths.max()) if len(rows) else 0
        B = self.k.shape[1]
        if len(rows) == B and bool((rows == torch.arange(B, device=rows.device)).all()):
            k, v = self.k[:, :, :L], self.v[:, :, :L]
        else:
            k, v = self.k[:, rows, :L], self.v[:, rows, :L]
        past = [(k[i].transpose(1, 2), v[i].transpose(1, 2)) for i in range(k.shape[0])]
        valid = torch.arange(L, device=rows.device)[None, :] < lengths[:, None]
        return past, valid

    def append(
        self,
        rows: Tensor,
        presents: list[tuple[Tensor, Tensor]],
        src: Tensor,
        counts: Tensor,
        start: Tensor | None = None,
    ) -> None:
        """Append to row rows[i] the slots start[i] .. start[i] + counts[i] - 1 (start 0 by default) of
        batch entry src[i] of `presents` (per layer (k, v) [b', H, S, hd])."""
        S = presents[0][0].shape[2]
        j = torch.arange(S, device=rows.device)[None, :]
        i_idx, j_idx = (j < counts[:, None]).nonzero(as_tuple=True)
        dest_row = rows[i_idx]
        dest_pos = self.length[dest_row] + j_idx
        from_row = src[i_idx]
        from_slot = j_idx if start is None else start[i_idx] + j_idx
        n_layer, B, capacity = self.k.shape[:3]
        for buffer, which in ((self.k, 0), (self.v, 1)):
            new = torch.stack([kv[which].transpose(1, 2) for kv in presents])  # [n_layer, b', S, H, hd]
            picked = new.flatten(1, 2).flatten(2).index_select(1, from_row * S + from_slot)
            flat = buffer.view(n_layer, B * capacity, -1)  # [n_layer, B * capacity, H * hd]
            flat.index_copy_(1, dest_row * capacity + dest_pos, picked.to(buffer.dtype))
        self.length.index_add_(0, rows, counts.to(self.length.dtype))
