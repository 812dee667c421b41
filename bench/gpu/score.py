"""Score/hidden throughput on the Qwen3-0.6B architecture (random weights), bf16: a forward pass with every
hidden state and the log-probability of each actual next token.

xfer: the worker's forward (per-layer hidden states) + chunked log-softmax gather (never materialising
[batch, tokens, vocab] float32 logits). Baseline: ``transformers`` forward with ``output_hidden_states=True``
and ``log_softmax(logits.float())`` gather, as the paper's analysis code does. Prints tokens/s and last
``ratio`` = xfer / transformers.

    python bench/gpu/score.py               # BATCH=16 SEQ=2048
"""

from common import env_int, header, require_cuda, timed, transformers_model, xfer_model

import torch

from xfer_worker.kernels import token_logprobs


def main() -> None:
    require_cuda()
    batch, sequence = env_int("BATCH", 16), env_int("SEQ", 2048)
    header(f"score+hidden qwen3-0.6b batch={batch} seq={sequence}")
    model = xfer_model("qwen3-0.6b", torch.bfloat16)
    ids = torch.randint(0, 150000, (batch, sequence), generator=torch.Generator().manual_seed(0)).cuda()
    valid = torch.ones_like(ids, dtype=torch.bool)
    positions = torch.arange(sequence, device=ids.device).expand(batch, sequence)
    tokens = batch * (sequence - 1)

    @torch.no_grad()
    def xfer_pass():
        final, hidden = model.forward(ids, positions, valid, output_hidden_states=True)
        pooled = [h.float().mean(1) for h in hidden]
        logprobs, _ = token_logprobs(final[:, :-1].reshape(-1, final.shape[-1]), model.lm_head_weight, ids[:, 1:].reshape(-1))
        return logprobs, pooled

    seconds, (xfer_logprobs, _) = timed(xfer_pass)
    xfer_rate = tokens / seconds
    print(f"xfer_tokens_per_s={xfer_rate:.0f}")
    state = {name: tensor for name, tensor in model.module.state_dict().items()}
    baseline = transformers_model("qwen3-0.6b", state, torch.bfloat16)

    @torch.no_grad()
    def baseline_pass():
        out = baseline(input_ids=ids, output_hidden_states=True)
        pooled = [h.float().mean(1) for h in out.hidden_states]
        logprobs = torch.log_softmax(out.logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        return logprobs.reshape(-1), pooled

    seconds, (baseline_logprobs, _) = timed(baseline_pass)
    baseline_rate = tokens / seconds
    print(f"transformers_tokens_per_s={baseline_rate:.0f}")
    print(f"max_logprob_difference={float((xfer_logprobs - baseline_logprobs).abs().max()):.4f}")
    print(f"ratio={xfer_rate / baseline_rate:.2f}")


if __name__ == "__main__":
    main()
