"""Batched generation over a static KV cache, with per-request seeds, stop sequences and logprobs.

The decode step reads only tensors (tokens, positions, slot, the cache's valid-slot mask), so on CUDA it is
captured once in a CUDA graph and replayed per token (``use_cuda_graph``). Sampling is a batched Gumbel-max
over per-request hashed noise, so a request gives the same text whatever else shares its batch.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from .errors import InvalidInput
from .kernels import sample_tokens
from .runtime import LoadedModel
from .tokenizer import ByteTokenizer


class _Decoder:
    """Runs one decode step, eagerly or by replaying a captured CUDA graph."""

    def __init__(self, model: LoadedModel, cache, batch: int, use_graph: bool):
        self.model = model
        self.cache = cache
        device = model.device
        self.tokens = torch.zeros(batch, 1, dtype=torch.long, device=device)
        self.positions = torch.zeros(batch, 1, dtype=torch.long, device=device)
        self.slot = torch.zeros(1, dtype=torch.long, device=device)
        self.graph = None
        self.logits = None
        self.use_graph = use_graph

    def _step(self) -> torch.Tensor:
        final, _ = self.model.forward(self.tokens, self.positions, self.cache.valid, self.cache, self.slot)
        return torch.matmul(final[:, -1], self.model.lm_head_weight.t()).float()

    def _capture(self) -> None:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(2):
                self._step()
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.logits = self._step()

    def __call__(self, tokens: torch.Tensor, positions: torch.Tensor, slot: int) -> torch.Tensor:
        self.tokens.copy_(tokens)
        self.positions.copy_(positions)
        self.slot.fill_(slot)
        if self.use_graph and self.graph is None:
            # capture with the real inputs in place: warm-up steps rewrite this slot with the same values
            self._capture()
        if self.graph is not None:
            self.graph.replay()
            return self.logits.clone()
        return self._step()


def _reusable(model: LoadedModel, batch: int, slots: int, use_graph: bool):
    """The previous (cache, captured decoder) when shapes match, else a fresh cache (the decoder comes later)."""
    held = model.extra.get("decoder")
    dtype = model.dtype
    if use_graph and torch.is_autocast_enabled():
        dtype = torch.get_autocast_dtype("cuda") if hasattr(torch, "get_autocast_dtype") else torch.get_autocast_gpu_dtype()
    if use_graph and held is not None and held[0] == batch and held[1] == slots and held[2].keys[0].dtype == dtype:
        cache, decoder = held[2], held[3]
        cache.valid.zero_()
        return cache, decoder
    model.extra.pop("decoder", None)
    return model.new_cache(batch, slots), None


def generate(
    model: LoadedModel,
    requests: list[dict[str, Any]],
    *,
    check_cancel: Callable[[], None],
    on_progress: Callable[[int, int, int], None],
    batch_size: int = 64,
    use_cuda_graph: bool = False,
) -> list[dict[str, Any]]:
    """Complete every request; results in request order."""
    results: list[dict[str, Any]] = []
    generated = 0
    for start in range(0, len(requests), batch_size):
        chunk = requests[start : start + batch_size]
        chunk_results, tokens = _generate_batch(model, chunk, check_cancel, lambda t: on_progress(len(results), len(requests), generated + t), use_cuda_graph)
        results.extend(chunk_results)
        generated += tokens
        on_progress(len(results), len(requests), generated)
    return results


@torch.no_grad()
def _generate_batch(model, requests, check_cancel, on_tokens, use_cuda_graph):
    started = time.perf_counter()
    tokenizer = model.tokenizer
    byte_level = isinstance(tokenizer, ByteTokenizer)
    device = model.device
    prompts: list[list[int]] = []
    for index, request in enumerate(requests):
        ids = tokenizer.encode(request["prompt"])
        if not ids:
            if tokenizer.bos_id is None:
                raise InvalidInput("empty prompt and the tokenizer has no BOS token", {"field": f"requests[{index}].prompt"})
            ids = [tokenizer.bos_id]
        if len(ids) >= model.max_context:
            raise InvalidInput(f"prompt has {len(ids)} tokens; the model's context is {model.max_context}", {"field": f"requests[{index}].prompt"})
        prompts.append(ids)
    batch = len(requests)
    sampling = [request["sampling"] for request in requests]
    longest = max(len(ids) for ids in prompts)
    budget = [min(s["maxTokens"], model.max_context - len(ids)) for s, ids in zip(sampling, prompts)]
    steps = max(budget)
    slots = longest + steps
    if use_cuda_graph and device.type == "cuda":
        # reuse the last cache and captured graph when the batch fits: round the slots up to a multiple of 128
        slots = -(-slots // 128) * 128
    cache, decoder = _reusable(model, batch, slots, use_cuda_graph and device.type == "cuda")
    input_ids = torch.full((batch, longest), tokenizer.pad_id, dtype=torch.long)
    valid = torch.zeros(batch, longest, dtype=torch.bool)
    for row, ids in enumerate(prompts):
        input_ids[row, longest - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        valid[row, longest - len(ids) :] = True
    input_ids, valid = input_ids.to(device), valid.to(device)
    positions = (valid.long().cumsum(-1) - 1).clamp_min(0)
    cache.valid[:, :longest] = valid
    final, _ = model.forward(input_ids, positions, cache.valid, cache, torch.arange(longest, device=device))
    logits = torch.matmul(final[:, -1], model.lm_head_weight.t()).float()
    next_position = positions[:, -1:] + 1

    seeds = torch.tensor([s["seed"] for s in sampling], dtype=torch.int64, device=device)
    temperature = torch.tensor([float(s["temperature"]) for s in sampling], device=device)
    top_k = torch.tensor([int(s["topK"]) for s in sampling], dtype=torch.long, device=device)
    top_p = torch.tensor([float(s["topP"]) for s in sampling], device=device)
    eos = set(tokenizer.eos_ids)
    allowed_count = getattr(tokenizer, "token_count", model.vocab_size)
    vocab_index = torch.arange(model.vocab_size, device=device)[None, :]
    stops = [[stop.encode("utf-8") for stop in s["stop"]] for s in sampling]
    completions: list[list[int]] = [[] for _ in range(batch)]
    logprobs: list[list[float]] = [[] for _ in range(batch)]
    texts: list[bytearray] = [bytearray() for _ in range(batch)]
    finish: list[str | None] = [None] * batch
    cut: list[int | None] = [None] * batch
    total_tokens = 0
    for step in range(steps):
        check_cancel()
        allowed = logits if allowed_count >= logits.shape[-1] else logits.masked_fill(vocab_index >= allowed_count, float("-inf"))
        chosen = sample_tokens(allowed, seeds, step, temperature, top_k, top_p)
        chosen_logprobs = torch.log_softmax(logits, dim=-1).gather(1, chosen[:, None]).squeeze(1)
        chosen_list = chosen.tolist()
        logprob_list = chosen_logprobs.tolist()
        for row in range(batch):
            if finish[row] is not None:
                continue
            token = chosen_list[row]
            completions[row].append(token)
            logprobs[row].append(logprob_list[row])
            total_tokens += 1
            if token in eos:
                finish[row] = "stop"
                continue
            before = len(texts[row])
            if byte_level:
                texts[row].extend(tokenizer.decode_bytes([token]))
            else:
                texts[row] = bytearray(tokenizer.decode_bytes(completions[row]))
            for stop in stops[row]:
                found = texts[row].find(stop, max(0, before - len(stop) + 1))
                if found >= 0:
                    cut[row] = found if cut[row] is None else min(cut[row], found)
            if cut[row] is not None:
                finish[row] = "stop"
            elif len(completions[row]) >= budget[row]:
                finish[row] = "length"
        on_tokens(total_tokens)
        if all(f is not None for f in finish) or step == steps - 1:
            break
        if decoder is None:
            decoder = _Decoder(model, cache, batch, use_cuda_graph and device.type == "cuda")
            if use_cuda_graph and device.type == "cuda":
                model.extra["decoder"] = (batch, slots, cache, decoder)
        slot = longest + step
        cache.valid[:, slot] = True
        logits = decoder(chosen[:, None], next_position, slot)
        next_position = next_position + 1
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    results = []
    for row, request in enumerate(requests):
        ids = completions[row]
        if cut[row] is not None:
            text = bytes(texts[row][: cut[row]]).decode("utf-8", errors="replace")
        elif finish[row] == "stop":
            text = tokenizer.decode(ids[:-1], skip_special=True)
        else:
            text = tokenizer.decode(ids, skip_special=True)
        result: dict[str, Any] = {
            "id": request["id"],
            "text": text,
            "finishReason": finish[row] or "length",
            "promptTokens": len(prompts[row]),
            "completionTokens": len(ids),
            "tokenIds": ids,
            "latencyMs": elapsed_ms,
        }
        if sampling[row]["logprobs"]:
            result["logprobs"] = logprobs[row]
        results.append(result)
    return results, total_tokens
