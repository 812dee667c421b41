"""SFT step MFU on the Qwen3-1.7B architecture (random weights): sequence 2048, micro-batch 4.

xfer: the worker's Trainer (float32 master weights, bf16 autocast, gradient checkpointing, chunked
linear + cross-entropy, fused AdamW, optional sequence packing). Baseline: ``transformers``
Qwen3ForCausalLM with the same settings (gradient checkpointing, bf16 autocast, fused AdamW, its own loss).
MFU counts 6·N + 12·L·H·S FLOPs per token (no recompute) against the H100's dense bf16 peak.
Prints MFU for both and last ``ratio`` = xfer MFU / transformers MFU.

    python bench/gpu/sft.py                 # SEQ=2048 MICRO=4 STEPS=5
"""

from common import H100_BF16_PEAK_FLOPS, config_dict, env_int, header, require_cuda, timed, transformers_model, xfer_model

import torch

from xfer_worker.training import Trainer

ADAMW = {"kind": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.0}


def flops_per_token(name: str, sequence: int) -> float:
    c = config_dict(name)
    h, layers = c["hidden_size"], c["num_hidden_layers"]
    q, kv = c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    per_layer = h * q * 2 + h * kv * 2 + 3 * h * c["intermediate_size"]
    parameters = layers * per_layer + c["vocab_size"] * h
    return 6 * parameters + 12 * layers * q * sequence


def main() -> None:
    require_cuda()
    sequence, micro, steps = env_int("SEQ", 2048), env_int("MICRO", 4), env_int("STEPS", 5)
    header(f"sft qwen3-1.7b seq={sequence} micro={micro}")
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 150000, (micro, sequence), generator=generator)
    sequences = [{"promptTokenIds": row[:16].tolist(), "completionTokenIds": row[16:].tolist()} for row in tokens]
    per_step_flops = flops_per_token("qwen3-1.7b", sequence) * micro * sequence
    model = xfer_model("qwen3-1.7b", torch.float32)
    model.module.requires_grad_(True)
    trainer = Trainer(model, None, ADAMW, {"autocast": "bfloat16", "gradientCheckpointing": True})
    loss = {"clip": None, "klBeta": 0.0, "aggregation": "token-mean"}

    def xfer_step():
        trainer.forward_backward(sequences, loss)
        return trainer.optimizer_step(1e-5, 1.0)

    seconds, _ = timed(xfer_step, repeats=steps)
    xfer_mfu = per_step_flops / seconds / H100_BF16_PEAK_FLOPS
    print(f"xfer_step_s={seconds:.3f} xfer_mfu={xfer_mfu:.3f}")
    state = {name: tensor.detach() for name, tensor in model.module.state_dict().items()}
    baseline = transformers_model("qwen3-1.7b", state, torch.float32)
    trainer = model = None  # free the GPU memory before the baseline
    torch.cuda.empty_cache()
    baseline.train()
    baseline.gradient_checkpointing_enable()
    optimizer = torch.optim.AdamW(baseline.parameters(), lr=1e-5, fused=True)
    ids = tokens.cuda()
    labels = ids.clone()
    labels[:, :16] = -100

    def baseline_step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = baseline(input_ids=ids, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(baseline.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    seconds, _ = timed(baseline_step, repeats=steps)
    baseline_mfu = per_step_flops / seconds / H100_BF16_PEAK_FLOPS
    print(f"transformers_step_s={seconds:.3f} transformers_mfu={baseline_mfu:.3f}")
    print(f"ratio={xfer_mfu / baseline_mfu:.2f}")


if __name__ == "__main__":
    main()
