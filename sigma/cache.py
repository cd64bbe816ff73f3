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
    def __init__(self, n_layer: int, batch: int, n_head: int, head_dim: int, capacity: int, device, dtype):
        shape = (n_layer, batch, n_head, capacity, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.length = torch.zeros(batch, dtype=torch.long, device=device)

    def view(self, rows: Tensor) -> tuple[list[tuple[Tensor, Tensor]], Tensor]:
        """Per-layer (k, v) [b, H, L, hd] for `rows` (repeats allowed: that branches the cache),
        and valid [b, L] marking which of the L entries each row really holds."""
        lengths = self.length[rows]
        L = int(lengths.max()) if len(rows) else 0
        k, v = self.k[:, rows, :, :L], self.v[:, rows, :, :L]
        past = [(k[i], v[i]) for i in range(k.shape[0])]
        valid = torch.arange(L, device=rows.device)[None, :] < lengths[:, None]
        return past, valid

    def append(self, rows: Tensor, presents: list[tuple[Tensor, Tensor]], src: Tensor, counts: Tensor) -> None:
        """Append to row rows[i] the first counts[i] slots of batch entry src[i] of `presents`."""
        S = presents[0][0].shape[2]
        j = torch.arange(S, device=rows.device)[None, :]
        take = j < counts[:, None]
        i_idx, j_idx = take.nonzero(as_tuple=True)
        dest_row = rows[i_idx]
        dest_pos = self.length[dest_row] + j_idx
        new_k = torch.stack([k for k, _ in presents])  # [n_layer, b', H, S, hd]
        new_v = torch.stack([v for _, v in presents])
        self.k[:, dest_row, :, dest_pos] = new_k[:, src[i_idx], :, j_idx].to(self.k.dtype)
        self.v[:, dest_row, :, dest_pos] = new_v[:, src[i_idx], :, j_idx].to(self.v.dtype)
        self.length.index_add_(0, rows, counts.to(self.length.dtype))
