"""Generation through vLLM when it is importable and ``options.vllm`` is set (inference-only workers).

vLLM keeps its own copy of the weights, so a training worker never uses it (its rollouts must come from the
current policy); the native static-cache + CUDA-graph path serves those. Per-request seeds, stop strings and
logprobs map onto ``SamplingParams``. Not exercised on the CPU CI machine.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from .errors import Unsupported
from .runtime import LoadedModel

_engines: dict[str, Any] = {}


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def generate(model: LoadedModel, requests: list[dict[str, Any]], options: dict[str, Any], *, on_progress: Callable[[int, int, int], None]) -> list[dict[str, Any]]:
    if not available():
        raise Unsupported("options.vllm is set but vllm is not installed", {"field": "options.vllm"})
    from vllm import LLM, SamplingParams  # type: ignore

    llm = _engines.get(model.location)
    if llm is None:
        llm = LLM(
            model=model.location,
            dtype=str(model.dtype).replace("torch.", ""),
            gpu_memory_utilization=float(options.get("vllmMemory", 0.5)),
            enforce_eager=False,
        )
        _engines[model.location] = llm
    started = time.perf_counter()
    params = []
    for request in requests:
        s = request["sampling"]
        params.append(
            SamplingParams(
                temperature=float(s["temperature"]),
                top_p=float(s["topP"]),
                top_k=int(s["topK"]) if s["topK"] > 0 else -1,
                max_tokens=int(s["maxTokens"]),
                stop=list(s["stop"]) or None,
                seed=int(s["seed"]),
                logprobs=0 if s["logprobs"] else None,
                skip_special_tokens=True,
            )
        )
    outputs = llm.generate([r["prompt"] for r in requests], params, use_tqdm=False)
    elapsed = (time.perf_counter() - started) * 1000.0
    results = []
    for request, output in zip(requests, outputs):
        completion = output.outputs[0]
        result: dict[str, Any] = {
            "id": request["id"],
            "text": completion.text,
            "finishReason": "stop" if completion.finish_reason == "stop" else "length",
            "promptTokens": len(output.prompt_token_ids or []),
            "completionTokens": len(completion.token_ids),
            "tokenIds": list(completion.token_ids),
            "latencyMs": elapsed,
        }
        if request["sampling"]["logprobs"] and completion.logprobs is not None:
            result["logprobs"] = [float(step[token].logprob) for step, token in zip(completion.logprobs, completion.token_ids)]
        results.append(result)
    on_progress(len(results), len(requests), sum(r["completionTokens"] for r in results))
    return results
