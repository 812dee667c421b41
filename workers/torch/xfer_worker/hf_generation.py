"""Generation for models loaded through ``transformers`` (no static cache): a plain KV-cache decode loop
with the same seeded sampling and stop handling as the native path, one request at a time. vLLM is used
instead when ``options.vllm`` is set (see ``vllm_generation``). Not exercised on the CPU CI machine (no
transformers there)."""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from .kernels import sample_tokens
from .runtime import LoadedModel


@torch.no_grad()
def generate(model: LoadedModel, requests: list[dict[str, Any]], *, check_cancel: Callable[[], None], on_progress) -> list[dict[str, Any]]:
    results = []
    tokenizer = model.tokenizer
    for index, request in enumerate(requests):
        started = time.perf_counter()
        sampling = request["sampling"]
        prompt = tokenizer.encode(request["prompt"]) or [tokenizer.bos_id if tokenizer.bos_id is not None else tokenizer.eos_ids[0]]
        ids = torch.tensor([prompt], device=model.device)
        out = model.module(input_ids=ids, use_cache=True)
        past, logits = out.past_key_values, out.logits[:, -1].float()
        generated: list[int] = []
        logprobs: list[float] = []
        finish, text = "length", None
        budget = min(sampling["maxTokens"], model.max_context - len(prompt))
        for step in range(budget):
            check_cancel()
            seeds = torch.tensor([sampling["seed"]], device=model.device)
            token = int(
                sample_tokens(
                    logits,
                    seeds,
                    step,
                    torch.tensor([float(sampling["temperature"])], device=model.device),
                    torch.tensor([int(sampling["topK"])], device=model.device),
                    torch.tensor([float(sampling["topP"])], device=model.device),
                )[0]
            )
            generated.append(token)
            logprobs.append(float(torch.log_softmax(logits, -1)[0, token]))
            if token in tokenizer.eos_ids:
                finish, text = "stop", tokenizer.decode(generated[:-1], skip_special=True)
                break
            decoded = tokenizer.decode(generated)
            cuts = [decoded.find(s) for s in sampling["stop"] if decoded.find(s) >= 0]
            if cuts:
                finish, text = "stop", decoded[: min(cuts)]
                break
            out = model.module(input_ids=torch.tensor([[token]], device=model.device), past_key_values=past, use_cache=True)
            past, logits = out.past_key_values, out.logits[:, -1].float()
        if text is None:
            text = tokenizer.decode(generated, skip_special=True)
        result = {
            "id": request["id"],
            "text": text,
            "finishReason": finish,
            "promptTokens": len(prompt),
            "completionTokens": len(generated),
            "tokenIds": generated,
            "latencyMs": (time.perf_counter() - started) * 1000.0,
        }
        if sampling["logprobs"]:
            result["logprobs"] = logprobs
        results.append(result)
        on_progress(index + 1, len(requests), sum(r["completionTokens"] for r in results))
    return results
