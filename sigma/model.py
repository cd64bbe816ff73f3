"""σ-GPT: a GPT that reads and writes a sequence in any order.

Every slot of the transformer carries two positions: where its input token sits and where the token
it must predict sits (the "double positional encoding"). Slot t of an order σ reads x[σ(t-1)] at
position σ(t-1) and predicts x[σ(t)] at position σ(t); slot 0 reads a BOS token at a START position.
Because the output position is an input, one prefix can be asked about any set of positions at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor

from sigma.orders import make_order


@dataclass
class SigmaConfig:
    vocab_size: int = 64
    block_size: int = 64  # T, the longest sequence; position index T is the START slot
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False
    pos_encoding: str = "learned"  # "learned" or "sinusoidal"
    # Optional structure of positions: (segments, rows, cols). Position p is then read as
    # segment p // (rows*cols), row, column, and embedded as a sum of three learned tables, so that
    # grid adjacency is given rather than learned, and cell (r, c) of every segment shares identity.
    grid: tuple[int, int, int] | None = None
    # A forward call's fixed cost on a CPU, in slots (the price of its overheads over one position's work), as
    # `python -m train.bench cost --write` measured it for this checkpoint; the draft window weighs drafts against
    # it (sigma.window). None: the device's default. It changes how many drafts a step verifies, never what a
    # sampler's draws follow.
    call_cost_slots: float | None = None
    # Tied embeddings: the output layer reads the token embedding's first vocab_size rows (the BOS row is
    # input-only) instead of its own matrix, which frees vocab_size * n_embd parameters for layers and lets a
    # rare token's row learn from both roles.
    tie_embeddings: bool = False

    def __post_init__(self) -> None:
        if self.grid is not None:
            self.grid = tuple(int(g) for g in self.grid)
            if math.prod(self.grid) != self.block_size:
                raise ValueError(f"grid {self.grid} does not cover block_size {self.block_size}")
        if self.n_embd % (2 * self.n_head) != 0:
            raise ValueError("n_embd must be divisible by 2 * n_head")
        if self.pos_encoding not in ("learned", "sinusoidal"):
            raise ValueError(f"unknown pos_encoding {self.pos_encoding!r}: use 'learned' or 'sinusoidal'")


class PositionEmbedding(nn.Module):
    """Maps a position index (0..T-1, or T for START) to a vector of width d."""

    def __init__(self, config: SigmaConfig, d: int):
        super().__init__()
        T = config.block_size
        self.grid = config.grid
        if config.grid is not None:
            segments, rows, cols = config.grid
            self.segment = nn.Embedding(segments, d)
            self.row = nn.Embedding(rows, d)
            self.col = nn.Embedding(cols, d)
            self.start = nn.Parameter(torch.zeros(d))
        elif config.pos_encoding == "learned":
            self.table = nn.Embedding(T + 1, d)
        else:
            pos = torch.arange(T + 1, dtype=torch.float32)[:, None]
            freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
            table = torch.zeros(T + 1, d)
            table[:, 0::2] = torch.sin(pos * freq)
            table[:, 1::2] = torch.cos(pos * freq)
            self.register_buffer("sinusoid", table, persistent=False)

    def forward(self, pos: Tensor) -> Tensor:
        if self.grid is None:
            return self.table(pos) if hasattr(self, "table") else self.sinusoid[pos]
        _, rows, cols = self.grid
        is_start = pos == rows * cols * self.grid[0]
        p = pos.clamp(max=rows * cols * self.grid[0] - 1)
        cell = p % (rows * cols)
        emb = self.segment(p // (rows * cols)) + self.row(cell // cols) + self.col(cell % cols)
        return torch.where(is_start[..., None], self.start.to(emb.dtype), emb)


class SelfAttention(nn.Module):
    """Multi-head attention over cached keys plus the new slots, under an explicit mask."""

    def __init__(self, config: SigmaConfig):
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout

    def forward(self, x: Tensor, past: tuple[Tensor, Tensor] | None, mask: Tensor | None):
        B, S, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, S, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        present = (k, v)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        drop = self.dropout if self.training else 0.0
        if mask is None:  # plain training pass: no cache, slots causal
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None], dropout_p=drop)
        y = y.transpose(1, 2).contiguous().view(B, S, C)
        return self.proj(y), present


class MLP(nn.Module):
    def __init__(self, config: SigmaConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    def __init__(self, config: SigmaConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = SelfAttention(config)
        self.ln2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor, past, mask):
        a, present = self.attn(self.ln1(x), past, mask)
        x = x + a
        return x + self.mlp(self.ln2(x)), present


class SigmaGPT(nn.Module, PyTorchModelHubMixin):
    """Pre-LN GPT over slots (input token, input position, output position).

    `save_pretrained(dir)` writes config.json + model.safetensors; `from_pretrained(dir_or_hub_id)`
    reads them back.
    """

    def __init__(self, config: SigmaConfig):
        super().__init__()
        if isinstance(config, dict):
            config = SigmaConfig(**config)
        self.config = config
        half = config.n_embd // 2
        self.bos = config.vocab_size  # an extra input-only token id
        self.start = config.block_size  # the START position index
        self.tok_emb = nn.Embedding(config.vocab_size + 1, config.n_embd)
        self.in_pos = PositionEmbedding(config, half)
        self.out_pos = PositionEmbedding(config, half)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.head = None if config.tie_embeddings else nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @classmethod
    def _from_pretrained(cls, *, strict: bool = True, **kwargs):
        """Load strictly: a missing, extra, renamed or wrong-shape tensor is an error naming it, never a
        model that silently keeps some of its random initial weights."""
        return super()._from_pretrained(strict=True, **kwargs)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    @property
    def device(self) -> torch.device:
        return self.tok_emb.weight.device

    @property
    def output_weight(self) -> Tensor:
        """[V, C]: the matrix whose rows score each token, the head's own or, tied, the token embedding's."""
        return self.tok_emb.weight[: self.config.vocab_size] if self.head is None else self.head.weight

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        in_tok: Tensor,
        in_pos: Tensor,
        out_pos: Tensor,
        past: list[tuple[Tensor, Tensor]] | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
        """Run S slots, [B, S] each, and return logits [B, S, V] and the slots' keys/values.

        past: per layer (k, v) of shape [B, H, L, hd] that the slots may attend to.
        mask: bool [B, S, L + S], True where a slot may attend; None means causal with no past.
        """
        x = self.tok_emb(in_tok) + torch.cat([self.in_pos(in_pos), self.out_pos(out_pos)], dim=-1)
        x = self.drop(x)
        presents = []
        for i, block in enumerate(self.blocks):
            x, present = block(x, None if past is None else past[i], mask)
            presents.append(present)
        return F.linear(self.ln_f(x), self.output_weight), presents

    def slots(self, tokens: Tensor, order: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Slot inputs for reading `tokens` [B, T] along `order` [B, T] (a permutation per row)."""
        B = tokens.shape[0]
        seen = tokens.gather(1, order[:, :-1])
        in_tok = torch.cat([tokens.new_full((B, 1), self.bos), seen], dim=1)
        in_pos = torch.cat([order.new_full((B, 1), self.start), order[:, :-1]], dim=1)
        return in_tok, in_pos, order

    def log_prob(
        self,
        tokens: Tensor,
        order: str | Tensor | list = "l2r",
        known: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Chain-rule log-likelihood [B] of `tokens` [B, T] along an order.

        With `known`, known positions come first in the order and only unknown positions are
        scored (log p(unknown | known)). Differentiable: -log_prob is the training loss.
        """
        tokens = check_tokens(tokens, self.config)
        if known is None:
            known = torch.zeros_like(tokens, dtype=torch.bool)
        perm = make_order(order, known, generator)
        in_tok, in_pos, out_pos = self.slots(tokens, perm)
        logits, _ = self(in_tok, in_pos, out_pos)
        targets = tokens.gather(1, perm)
        logp = -F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")
        scored = ~known.gather(1, perm)
        return (logp * scored).sum(dim=1)


def check_tokens(tokens: Tensor, config: SigmaConfig) -> Tensor:
    """Validate a [B, T] batch of token ids against the model, with messages that name the problem."""
    if not isinstance(tokens, Tensor):
        raise ValueError(f"tokens must be a LongTensor [B, T], got {type(tokens).__name__}")
    if tokens.dim() == 1:
        tokens = tokens[None]
    if tokens.dim() != 2:
        raise ValueError(f"tokens must have shape [B, T], got {tuple(tokens.shape)}")
    if tokens.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"tokens must be integer ids, got dtype {tokens.dtype}")
    if tokens.shape[1] > config.block_size:
        raise ValueError(f"sequence length {tokens.shape[1]} exceeds the model's block_size {config.block_size}")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= config.vocab_size):
        bad = tokens[(tokens < 0) | (tokens >= config.vocab_size)][0].item()
        raise ValueError(f"token id {bad} is outside the vocabulary [0, {config.vocab_size})")
    return tokens.long()
