"""Chunked output-layer kernels and batch-independent seeded sampling.

``token_logprobs`` computes ``log softmax(h W^T)[target]`` in row chunks, forward and backward, so the full
``[tokens, vocab]`` float32 logits are never materialised (the chunked linear + cross-entropy fast path; on CPU it
is simply exact). ``sample_tokens`` draws each row with its own seed from a counter-based hash, so a request's
tokens do not depend on what else is in the batch, on CPU and CUDA alike.
"""

from __future__ import annotations

from typing import Iterator

import torch


def default_chunk(vocab_size: int, budget_elements: int = 1 << 25) -> int:
    """Rows per chunk so that one chunk of float32 logits stays within ``budget_elements``."""
    return max(1, budget_elements // max(1, vocab_size))


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The active autocast dtype for ``device``, or None outside autocast."""
    if device.type == "cuda":
        if not torch.is_autocast_enabled():
            return None
        return torch.get_autocast_dtype("cuda") if hasattr(torch, "get_autocast_dtype") else torch.get_autocast_gpu_dtype()
    if device.type == "cpu" and torch.is_autocast_cpu_enabled():
        return torch.get_autocast_dtype("cpu") if hasattr(torch, "get_autocast_dtype") else torch.get_autocast_cpu_dtype()
    return None


def logit_chunks(hidden: torch.Tensor, weight: torch.Tensor, chunk: int, dtype: torch.dtype | None = None) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield ``(start, end, float32 logits)`` for row chunks of ``hidden [N, H]`` (matmuls in ``dtype``)."""
    if dtype is not None and weight.dtype != dtype:
        weight = weight.to(dtype)
    for start in range(0, hidden.shape[0], chunk):
        end = min(start + chunk, hidden.shape[0])
        rows = hidden[start:end] if dtype is None else hidden[start:end].to(dtype)
        yield start, end, torch.matmul(rows, weight.t()).float()


class _ChunkedTokenLogprobs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk):  # type: ignore[override]
        # the output layer's matmuls run in the autocast dtype when autocast is on (backward runs outside
        # autocast, so the dtype is remembered), else in the weights' dtype
        compute = autocast_dtype(hidden.device) or weight.dtype
        logprobs = torch.empty(hidden.shape[0], dtype=torch.float32, device=hidden.device)
        entropy = torch.empty_like(logprobs)
        with torch.no_grad():
            for start, end, logits in logit_chunks(hidden, weight, chunk, compute):
                log_z = torch.logsumexp(logits, dim=-1)
                logprobs[start:end] = logits.gather(1, targets[start:end, None]).squeeze(1) - log_z
                log_p = logits - log_z[:, None]
                entropy[start:end] = -(log_p.exp() * log_p).sum(-1)
        ctx.save_for_backward(hidden, weight, targets)
        ctx.chunk = chunk
        ctx.compute = compute
        ctx.mark_non_differentiable(entropy)
        return logprobs, entropy

    @staticmethod
    def backward(ctx, grad_logprobs, _grad_entropy):  # type: ignore[override]
        hidden, weight, targets = ctx.saved_tensors
        compute = ctx.compute
        weight_c = weight if weight.dtype == compute else weight.to(compute)
        grad_hidden = torch.zeros_like(hidden) if ctx.needs_input_grad[0] else None
        grad_weight = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if ctx.needs_input_grad[1] else None
        for start, end, logits in logit_chunks(hidden, weight_c, ctx.chunk, compute):
            g = grad_logprobs[start:end].float()
            grad_logits = -torch.softmax(logits, dim=-1) * g[:, None]
            grad_logits.scatter_add_(1, targets[start:end, None], g[:, None])
            grad_c = grad_logits.to(compute)
            if grad_hidden is not None:
                grad_hidden[start:end] = torch.matmul(grad_c, weight_c).to(hidden.dtype)
            if grad_weight is not None:
                grad_weight += torch.matmul(grad_c.t(), hidden[start:end].to(compute)).float()
        return grad_hidden, None if grad_weight is None else grad_weight.to(weight.dtype), None, None


def token_logprobs(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int | None = None):
    """Per-row ``(logprob of target, entropy)`` of ``softmax(hidden @ weight^T)``; differentiable in the first."""
    return _ChunkedTokenLogprobs.apply(hidden, weight, targets, chunk or default_chunk(weight.shape[0]))


_MASK32 = 0xFFFFFFFF


def _fmix32(x: torch.Tensor) -> torch.Tensor:
    """MurmurHash3's 32-bit finaliser on int64 tensors holding 32-bit values (no int64 overflow)."""
    x = x & _MASK32
    x = x ^ (x >> 16)
    x = (x * 0x85EBCA6B) & _MASK32
    x = x ^ (x >> 13)
    x = (x * 0xC2B2AE35) & _MASK32
    return x ^ (x >> 16)


def uniform_noise(seeds: torch.Tensor, step: int, vocab_size: int) -> torch.Tensor:
    """Uniform (0, 1) float64 noise ``[B, V]``: a pure function of (seed, step, token index)."""
    device = seeds.device
    index = torch.arange(vocab_size, device=device, dtype=torch.int64)
    seed = seeds.to(torch.int64) & _MASK32
    row = _fmix32(seed * 0x9E3779B1 + step * 0x7FEB352D + 0x165667B1)
    h = _fmix32(row[:, None] ^ _fmix32(index[None, :] * 0x27D4EB2F + 0x61C88647))
    h2 = _fmix32(h + 0x2545F491)
    return ((h.double() * 4294967296.0 + h2.double()) + 0.5) / 18446744073709551616.0


def filter_logits(logits: torch.Tensor, temperature: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Apply temperature, top-k (<= 0 disables) and top-p per row; removed tokens become -inf."""
    scaled = logits / temperature.clamp_min(1e-6)[:, None]
    if not bool(((top_k > 0) | (top_p < 1)).any()):
        return scaled  # nothing to filter: skip the sort
    vocab = scaled.shape[-1]
    sorted_logits, order = torch.sort(scaled, dim=-1, descending=True)
    rank = torch.arange(vocab, device=logits.device)[None, :]
    k = torch.where(top_k > 0, top_k, torch.full_like(top_k, vocab))
    remove = rank >= k[:, None]
    probs = torch.softmax(sorted_logits.masked_fill(remove, float("-inf")), dim=-1)
    before = torch.cumsum(probs, dim=-1) - probs
    remove = remove | ((before >= top_p[:, None]) & (rank > 0))
    sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
    return torch.full_like(scaled, float("-inf")).scatter(1, order, sorted_logits)


def sample_tokens(
    logits: torch.Tensor,
    seeds: torch.Tensor,
    step: int,
    temperature: torch.Tensor,
    top_k: torch.Tensor,
    top_p: torch.Tensor,
) -> torch.Tensor:
    """One token per row: argmax where temperature is 0, else Gumbel-max over the filtered distribution."""
    logits = logits.float()
    greedy = torch.argmax(logits, dim=-1)
    if bool((temperature > 0).any()):
        filtered = filter_logits(logits, torch.where(temperature > 0, temperature, torch.ones_like(temperature)), top_k, top_p)
        gumbel = -torch.log(-torch.log(uniform_noise(seeds, step, logits.shape[-1])))
        sampled = torch.argmax(filtered.double() + gumbel, dim=-1)
        return torch.where(temperature > 0, sampled, greedy)
    return greedy
