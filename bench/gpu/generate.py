"""Rollout generation throughput on the Qwen3-0.6B architecture (random weights), batch 64, bf16.

xfer: the worker's native path (static KV cache, decode step captured in a CUDA graph, batched seeded
sampling). Baseline: ``transformers`` ``generate`` (sdpa, bf16) on the same weights in the same run.
Prints tokens/s for greedy and sampled decoding, and last ``ratio`` = xfer sampled / transformers sampled.

    python bench/gpu/generate.py            # BATCH=64 PROMPT=128 NEW=256
"""

from common import env_int, header, require_cuda, timed, transformers_model, xfer_model

import torch

from xfer_worker import generation


def main() -> None:
    require_cuda()
    batch, prompt_length, new_tokens = env_int("BATCH", 64), env_int("PROMPT", 128), env_int("NEW", 256)
    header(f"generate qwen3-0.6b batch={batch} prompt={prompt_length} new={new_tokens}")
    model = xfer_model("qwen3-0.6b", torch.bfloat16)
    generator = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, 150000, (batch, prompt_length), generator=generator)
    results: dict[str, float] = {}
    for mode, temperature in (("greedy", 0.0), ("sampled", 1.0)):
        requests = [
            {"id": str(i), "prompt": " ".join(map(str, prompts[i].tolist())),
             "sampling": {"temperature": temperature, "topP": 1.0, "topK": -1, "maxTokens": new_tokens, "stop": [], "seed": i, "logprobs": True}}
            for i in range(batch)
        ]
        seconds, out = timed(lambda: generation.generate(model, requests, check_cancel=lambda: None, on_progress=lambda *a: None, batch_size=batch, use_cuda_graph=True), repeats=2)
        tokens = sum(r["completionTokens"] for r in out)
        results[f"xfer_{mode}"] = tokens / seconds
        print(f"xfer_{mode}_tokens_per_s={tokens / seconds:.0f}")

    state = {name: tensor for name, tensor in model.module.state_dict().items()}
    baseline = transformers_model("qwen3-0.6b", state, torch.bfloat16)
    model = None  # free the GPU memory before the baseline
    torch.cuda.empty_cache()
    ids = prompts.cuda()
    mask = torch.ones_like(ids)
    for mode, sample in (("greedy", False), ("sampled", True)):
        def run():
            with torch.no_grad():
                return baseline.generate(
                    input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                    do_sample=sample, temperature=1.0 if sample else None, top_p=1.0 if sample else None, top_k=0 if sample else None,
                    pad_token_id=0, eos_token_id=None,
                )
        seconds, out = timed(run, repeats=2)
        tokens = (out.shape[1] - prompt_length) * batch
        results[f"transformers_{mode}"] = tokens / seconds
        print(f"transformers_{mode}_tokens_per_s={tokens / seconds:.0f}")
    print(f"ratio_greedy={results['xfer_greedy'] / results['transformers_greedy']:.2f}")
    print(f"ratio={results['xfer_sampled'] / results['transformers_sampled']:.2f}")


if __name__ == "__main__":
    main()
