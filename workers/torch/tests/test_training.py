import json
import math

import pytest
import torch

from xfer_worker.errors import Diverged, InvalidInput
from xfer_worker.runtime import load_model, save_checkpoint
from xfer_worker.training import Trainer

ADAMW = {"kind": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.1}
SEQUENCES = [
    {"promptTokenIds": [256, 72, 105], "completionTokenIds": [33, 10, 258]},
    {"promptTokenIds": [256, 97], "completionTokenIds": [98, 99, 100, 101, 258]},
]


def loss(**overrides):
    base = {"clip": None, "klBeta": 0.0, "aggregation": "token-mean"}
    base.update(overrides)
    return base


@pytest.fixture
def trainer(checkpoint):
    policy = load_model({"kind": "nano", "path": str(checkpoint)}, {}, torch.device("cpu"), torch.float32, 0)
    return Trainer(policy, None, ADAMW, {})


def test_cross_entropy_is_the_mean_negative_logprob(trainer):
    logprobs = trainer.logprobs(SEQUENCES, "policy")
    out = trainer.forward_backward(SEQUENCES, loss())
    flat = [v for row in logprobs for v in row]
    assert out["tokens"] == 8 and out["clipFraction"] == 0 and out["kl"] == 0
    assert abs(out["loss"] - (-sum(flat) / len(flat))) < 1e-5
    assert all(abs(a - b) < 1e-5 for a, b in zip(flat, [v for row in out["logprobs"] for v in row]))
    per_sequence = trainer.forward_backward(SEQUENCES, loss(aggregation="sequence-mean"))["loss"]
    assert abs(per_sequence - (-(sum(logprobs[0]) / 3 + sum(logprobs[1]) / 5) / 2)) < 1e-5
    summed = trainer.forward_backward(SEQUENCES, loss(aggregation="token-sum", sumDivisor=4))["loss"]
    assert abs(summed - (-sum(flat) / 4)) < 1e-4


def test_weights_scale_the_gradient_and_scale_option_multiplies_it(trainer):
    trainer.forward_backward(SEQUENCES, loss())
    base = {n: p.grad.clone() for n, p in trainer.policy.module.named_parameters()}
    trainer.optimizer.zero_grad(set_to_none=True)
    weighted = [dict(s, weights=[2.0] * len(s["completionTokenIds"])) for s in SEQUENCES]
    trainer.forward_backward(weighted, loss(), scale=0.5)
    for name, parameter in trainer.policy.module.named_parameters():
        assert torch.allclose(parameter.grad, base[name], atol=1e-6)


def test_clipping_zeroes_the_gradient_of_clipped_tokens(trainer):
    logprobs = trainer.logprobs(SEQUENCES[:1], "policy")[0]
    # old logprobs far below the current ones: ratio >> 1 + high, positive advantage -> clipped, no gradient
    sequence = dict(SEQUENCES[0], oldLogprobs=[v - 2.0 for v in logprobs], weights=[1.0, 1.0, 1.0])
    out = trainer.forward_backward([sequence], loss(clip={"low": 0.2, "high": 0.28}))
    assert out["clipFraction"] == 1.0
    assert abs(out["loss"] - (-1.28)) < 1e-5
    assert all(p.grad is None or float(p.grad.abs().max()) == 0.0 for p in trainer.policy.module.parameters())
    # negative advantage with a large ratio: PPO keeps the (pessimistic) unclipped term, so nothing is clipped
    sequence = dict(SEQUENCES[0], oldLogprobs=[v - 2.0 for v in logprobs], weights=[-1.0, -1.0, -1.0])
    out = trainer.forward_backward([sequence], loss(clip={"low": 0.2, "high": 0.28}))
    assert out["clipFraction"] == 0.0
    assert abs(out["loss"] - math.exp(2.0)) < 1e-4
    # negative advantage, ratio below 1 - low: clipped
    sequence = dict(SEQUENCES[0], oldLogprobs=[v + 2.0 for v in logprobs], weights=[-1.0, -1.0, -1.0])
    assert trainer.forward_backward([sequence], loss(clip={"low": 0.2, "high": 0.28}))["clipFraction"] == 1.0


def test_k3_kl_term(trainer):
    logprobs = trainer.logprobs(SEQUENCES, "policy")
    same = [dict(s, refLogprobs=lp) for s, lp in zip(SEQUENCES, logprobs)]
    out = trainer.forward_backward(same, loss(klBeta=0.5))
    assert abs(out["kl"]) < 1e-6
    shifted = [dict(s, refLogprobs=[v - 1.0 for v in lp]) for s, lp in zip(SEQUENCES, logprobs)]
    out = trainer.forward_backward(shifted, loss(klBeta=0.5))
    k3 = math.exp(-1.0) + 1.0 - 1.0
    assert abs(out["kl"] - k3) < 1e-5
    flat = [v for row in logprobs for v in row]
    assert abs(out["loss"] - (-sum(flat) / len(flat) + 0.5 * k3)) < 1e-5
    with pytest.raises(InvalidInput, match="refLogprobs"):
        trainer.forward_backward(SEQUENCES, loss(klBeta=0.5))
    trainer.snapshot_reference()
    out = trainer.forward_backward(SEQUENCES, loss(klBeta=0.5))
    assert abs(out["kl"]) < 1e-6


def test_adamw_step_matches_the_textbook_update(trainer):
    before = {n: p.detach().clone() for n, p in trainer.policy.module.named_parameters()}
    trainer.forward_backward(SEQUENCES, loss())
    grads = {n: p.grad.detach().clone() for n, p in trainer.policy.module.named_parameters()}
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads.values()))
    out = trainer.optimizer_step(0.01, grad_clip=0.5)
    assert out == {"gradNorm": pytest.approx(norm, rel=1e-5), "learningRate": 0.01, "step": 1}
    scale = 0.5 / (norm + 1e-6)
    for name, parameter in trainer.policy.module.named_parameters():
        g = grads[name] * scale
        m, v = 0.1 * g, 0.001 * g * g
        decay = 1.0 if name.endswith("norm.weight") else 1 - 0.01 * 0.1
        expected = before[name] * decay - 0.01 * (m / 0.1) / ((v / 0.001).sqrt() + 1e-8)
        assert torch.allclose(parameter.detach(), expected, atol=1e-6), name
        assert parameter.grad is None


def test_divergence_is_a_typed_error(trainer):
    with torch.no_grad():
        trainer.policy.module.model.norm.weight.fill_(float("nan"))
    with pytest.raises(Diverged) as raised:
        trainer.forward_backward(SEQUENCES, loss())
    assert raised.value.code == "TRAINING_DIVERGED" and raised.value.data["tensor"] == "loss"


def test_invalid_sequences_name_the_field(trainer):
    with pytest.raises(InvalidInput) as raised:
        trainer.forward_backward([{"promptTokenIds": [], "completionTokenIds": [1]}], loss())
    assert raised.value.data["field"] == "sequences[0].promptTokenIds"
    with pytest.raises(InvalidInput) as raised:
        trainer.forward_backward([dict(SEQUENCES[0], weights=[1.0])], loss())
    assert raised.value.data["field"] == "sequences[0].weights"


def test_save_and_load_round_trip_with_optimizer_state(trainer, tmp_path, checkpoint):
    trainer.forward_backward(SEQUENCES, loss())
    trainer.optimizer_step(0.01, None)
    state, meta = trainer.optimizer_state()
    written = save_checkpoint(trainer.policy, str(tmp_path / "ckpt"), state, meta)
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["config.json", "generation_config.json", "model.safetensors", "optimizer.safetensors", "tokenizer.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"], "no temporary folder is left behind"
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text()) == json.loads((checkpoint / "config.json").read_text())
    assert len(written["sha256"]) == 64 and written["bytes"] == (tmp_path / "ckpt" / "model.safetensors").stat().st_size

    fresh = Trainer(load_model({"kind": "nano", "path": str(checkpoint)}, {}, torch.device("cpu"), torch.float32, 0), None, ADAMW, {})
    fresh.load_weights(tmp_path / "ckpt")
    fresh.load_optimizer_state(tmp_path / "ckpt")
    assert fresh.step == 1
    for (name, a), (_, b) in zip(trainer.policy.module.named_parameters(), fresh.policy.module.named_parameters()):
        assert torch.equal(a, b), name
    # the next step is identical in both
    for t in (trainer, fresh):
        t.forward_backward(SEQUENCES, loss())
        t.optimizer_step(0.01, None)
    for (name, a), (_, b) in zip(trainer.policy.module.named_parameters(), fresh.policy.module.named_parameters()):
        assert torch.allclose(a, b, atol=1e-7), name


def test_packing_and_gradient_checkpointing_give_the_same_loss_and_gradients(checkpoint):
    def gradients(options):
        policy = load_model({"kind": "nano", "path": str(checkpoint)}, {}, torch.device("cpu"), torch.float32, 0)
        trainer = Trainer(policy, None, ADAMW, options)
        out = trainer.forward_backward(SEQUENCES, loss(aggregation="sequence-mean"))
        return out["loss"], {n: p.grad.clone() for n, p in policy.module.named_parameters()}

    plain_loss, plain = gradients({})
    for options in ({"packing": True}, {"gradientCheckpointing": True}, {"packing": True, "gradientCheckpointing": True}):
        other_loss, other = gradients(options)
        assert abs(other_loss - plain_loss) < 1e-5, options
        for name, grad in plain.items():
            assert torch.allclose(other[name], grad, atol=1e-5), (options, name)


def test_mixed_precision_paths_run_under_bf16_autocast(trainer):
    """The dtype handling the CUDA fast paths rely on (autocast matmuls, float32 norms, chunked output layer
    remembering the autocast dtype for backward), exercised with CPU autocast."""
    from xfer_worker import generation

    reference = trainer.forward_backward(SEQUENCES, loss())["loss"]
    trainer.optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = trainer.forward_backward(SEQUENCES, loss())
        [result] = generation.generate(
            trainer.policy,
            [{"id": "a", "prompt": "hi", "sampling": {"temperature": 0, "topP": 1, "topK": -1, "maxTokens": 4, "stop": [], "seed": 0, "logprobs": True}}],
            check_cancel=lambda: None,
            on_progress=lambda *a: None,
        )
    assert abs(out["loss"] - reference) < 0.1
    assert all(p.grad is not None and p.grad.dtype == torch.float32 and bool(torch.isfinite(p.grad).all()) for p in trainer.policy.module.parameters())
    assert len(result["tokenIds"]) == 4
