"""A compact Qwen3 causal LM in plain torch (torch >= 1.13), loading HF-format nano checkpoints.

Parameter names match ``transformers``' ``Qwen3ForCausalLM`` (``model.embed_tokens.weight``,
``model.layers.N.self_attn.q_proj.weight``, ...). The same module serves CPU tests and the GPU fast paths: a
static KV cache written with ``index_copy_`` and masks computed from tensors, so the decode step can be captured
in a CUDA graph unchanged.

``hidden_states`` follow ``transformers``' ``output_hidden_states``: the embedding output, the output of blocks
1..L-1, and the final-norm output of block L (``num_hidden_layers + 1`` entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Qwen3Config:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    max_position_embeddings: int = 4096
    tie_word_embeddings: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Qwen3Config":
        heads = int(raw["num_attention_heads"])
        hidden = int(raw["hidden_size"])
        known = {
            "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta", "max_position_embeddings",
            "tie_word_embeddings",
        }
        return cls(
            vocab_size=int(raw["vocab_size"]),
            hidden_size=hidden,
            intermediate_size=int(raw["intermediate_size"]),
            num_hidden_layers=int(raw["num_hidden_layers"]),
            num_attention_heads=heads,
            num_key_value_heads=int(raw.get("num_key_value_heads") or heads),
            head_dim=int(raw.get("head_dim") or hidden // heads),
            rms_norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
            rope_theta=float(raw.get("rope_theta", 1_000_000.0)),
            max_position_embeddings=int(raw.get("max_position_embeddings", 4096)),
            tie_word_embeddings=bool(raw.get("tie_word_embeddings", True)),
            extra={k: v for k, v in raw.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update(
            model_type="qwen3",
            architectures=["Qwen3ForCausalLM"],
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            head_dim=self.head_dim,
            rms_norm_eps=self.rms_norm_eps,
            rope_theta=self.rope_theta,
            max_position_embeddings=self.max_position_embeddings,
            tie_word_embeddings=self.tie_word_embeddings,
            hidden_act="silu",
            attention_bias=False,
        )
        return out


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Rotary(nn.Module):
    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        freqs = position_ids[..., None].float() * self.inv_freq.float()  # [B, T, D/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype)[:, None], emb.sin().to(dtype)[:, None]  # [B, 1, T, D]


class StaticCache:
    """Preallocated keys/values ``[batch, kv_heads, slots, head_dim]`` per layer, plus which slots hold tokens."""

    def __init__(self, config: Qwen3Config, batch: int, slots: int, device: torch.device, dtype: torch.dtype):
        shape = (batch, config.num_key_value_heads, slots, config.head_dim)
        self.keys = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        self.values = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        self.valid = torch.zeros(batch, slots, dtype=torch.bool, device=device)
        self.slots = slots


def attention_mask(slots: torch.Tensor, key_valid: torch.Tensor, segments: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean ``[B, 1, T, S]``: query at slot ``slots[t]`` sees valid keys at slots ``<= slots[t]``.

    Rows with nothing to see (left-padding queries) see every key, as ``transformers`` does for fully masked rows,
    so they stay finite. ``segments`` (``[B, T]``, packed sequences) restricts each query to its own segment.
    """
    key_index = torch.arange(key_valid.shape[1], device=key_valid.device)
    allowed = (key_index[None, None, :] <= slots[None, :, None]) & key_valid[:, None, :]
    if segments is not None:
        allowed = allowed & (segments[:, :, None] == segments[:, None, :])
    empty = ~allowed.any(dim=-1, keepdim=True)
    return (allowed | empty)[:, None]


class Attention(nn.Module):
    def __init__(self, config: Qwen3Config):
        super().__init__()
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = config.head_dim
        self.q_proj = nn.Linear(config.hidden_size, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, config.hidden_size, bias=False)
        self.q_norm = RMSNorm(self.head_dim, config.rms_norm_eps)
        self.k_norm = RMSNorm(self.head_dim, config.rms_norm_eps)

    def forward(self, x, cos, sin, mask, cache_keys=None, cache_values=None, slots=None):
        batch, length, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(batch, length, self.heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(batch, length, self.kv_heads, self.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if q.dtype != v.dtype:
            # under autocast the float32 norm weights promote q/k; attend in the matmuls' precision
            q, k = q.to(v.dtype), k.to(v.dtype)
        if cache_keys is not None:
            cache_keys.index_copy_(2, slots, k.to(cache_keys.dtype))
            cache_values.index_copy_(2, slots, v.to(cache_values.dtype))
            k, v = cache_keys, cache_values
            q = q.to(k.dtype)
        groups = self.heads // self.kv_heads
        if groups > 1:
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        if x.is_cuda and hasattr(F, "scaled_dot_product_attention"):
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) / math.sqrt(self.head_dim)
            scores = scores.masked_fill(~mask, float("-inf"))
            out = torch.matmul(torch.softmax(scores, dim=-1), v.float()).to(x.dtype)
        return self.o_proj(out.transpose(1, 2).reshape(batch, length, self.heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, config: Qwen3Config):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config: Qwen3Config):
        super().__init__()
        self.self_attn = Attention(config)
        self.mlp = MLP(config)
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)

    def forward(self, x, cos, sin, mask, cache_keys=None, cache_values=None, slots=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache_keys, cache_values, slots)
        return x + self.mlp(self.post_attention_layernorm(x))


class Qwen3Model(nn.Module):
    def __init__(self, config: Qwen3Config):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.rotary = Rotary(config.head_dim, config.rope_theta)


class Qwen3ForCausalLM(nn.Module):
    """``forward`` returns the final (normed) hidden states; logits come from ``lm_head_weight`` in chunks."""

    def __init__(self, config: Qwen3Config):
        super().__init__()
        self.config = config
        self.model = Qwen3Model(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.gradient_checkpointing = False

    @property
    def lm_head_weight(self) -> torch.Tensor:
        return self.lm_head.weight

    def forward(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        key_valid: torch.Tensor,
        cache: StaticCache | None = None,
        slots: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        segments: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run the blocks.

        Without ``cache``, ``key_valid`` is ``[B, T]`` (False on padding) and slots are ``0..T-1``. With a cache,
        the tokens are written at ``slots`` (a ``[T]`` long tensor) and ``key_valid`` is the cache's ``[B, S]``.
        """
        if slots is None:
            slots = torch.arange(input_ids.shape[1], device=input_ids.device)
        mask = attention_mask(slots, key_valid, segments)
        x = self.model.embed_tokens(input_ids)
        cos, sin = self.model.rotary(position_ids, x.dtype)
        hidden: list[torch.Tensor] = []
        layers = self.model.layers
        for index, layer in enumerate(layers):
            if output_hidden_states:
                hidden.append(x)
            if cache is not None:
                x = layer(x, cos, sin, mask, cache.keys[index], cache.values[index], slots)
            elif self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                from torch.utils.checkpoint import checkpoint

                x = checkpoint(layer, x, cos, sin, mask, use_reentrant=False)
            else:
                x = layer(x, cos, sin, mask)
        x = self.model.norm(x)
        if output_hidden_states:
            hidden.append(x)
        return x, hidden


def build_model(config: Qwen3Config, state: dict[str, torch.Tensor] | None = None, seed: int = 0) -> Qwen3ForCausalLM:
    """Create the module; load ``state`` (HF names, tied head optional) strictly, or initialise it randomly."""
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config)
    if state is None:
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(parameter)
            else:
                nn.init.normal_(parameter, std=0.02)
        return model
    state = dict(state)
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    expected = {name for name in model.state_dict() if not (config.tie_word_embeddings and name == "lm_head.weight")}
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise KeyError(f"checkpoint tensors do not match Qwen3: missing {missing[:5]}, unexpected {unexpected[:5]}")
    own = model.state_dict()
    for name, tensor in state.items():
        if tuple(own[name].shape) != tuple(tensor.shape):
            raise KeyError(f"checkpoint tensor '{name}' has shape {list(tensor.shape)}, expected {list(own[name].shape)}")
    model.load_state_dict(state, strict=False)
    return model


def export_state(model: Qwen3ForCausalLM) -> dict[str, torch.Tensor]:
    """The HF tensor names and values to save (no ``lm_head.weight`` when tied)."""
    state = {name: tensor.detach() for name, tensor in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    return state
