"""The trainer side: per-token logprobs, the unified policy loss with levers, AdamW steps, save/load.

Loss (``PolicyLoss`` of ``@xfer/core``), per completion token t with weight w_t and policy logprob l_t:
- no clip: ``-w_t * l_t`` (cross-entropy when w = 1);
- clip {low, high}: ``max(-w_t * r_t, -w_t * clip(r_t, 1 - low, 1 + high))`` with ``r_t = exp(l_t - old_t)``;
- plus ``klBeta * k3`` where ``k3 = exp(ref_t - l_t) - (ref_t - l_t) - 1``;
aggregated by ``token-mean``, ``sequence-mean`` or ``token-sum`` (divided by ``sumDivisor``, default 1).
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

import torch

from . import safetensors_io
from .errors import CheckpointInvalid, Diverged, InvalidInput, Unsupported
from .kernels import token_logprobs
from .runtime import LoadedModel
from .scoring import right_padded, target_hidden


def _sequence(model: LoadedModel, sequence: dict[str, Any], index: int) -> tuple[list[int], int]:
    prompt = list(sequence["promptTokenIds"])
    if not prompt:
        raise InvalidInput(
            "needs at least one token (e.g. <|endoftext|>) to predict the first completion token from",
            {"field": f"sequences[{index}].promptTokenIds"},
        )
    completion = list(sequence["completionTokenIds"])
    if len(prompt) + len(completion) - 1 > model.max_context:
        raise InvalidInput(
            f"{len(prompt) + len(completion)} tokens exceed max_position_embeddings {model.max_context}",
            {"field": f"sequences[{index}]"},
        )
    vocab = model.vocab_size
    for name, ids in (("promptTokenIds", prompt), ("completionTokenIds", completion)):
        bad = [t for t in ids if t >= vocab]
        if bad:
            raise InvalidInput(f"token id {bad[0]} is outside the vocabulary ({vocab})", {"field": f"sequences[{index}].{name}"})
    for name in ("weights", "oldLogprobs", "refLogprobs"):
        values = sequence.get(name)
        if values is not None and len(values) != len(completion):
            raise InvalidInput(
                f"{name} has {len(values)} entries for {len(completion)} completion tokens",
                {"field": f"sequences[{index}].{name}"},
            )
    return prompt + completion, len(prompt)


def completion_hidden(model: LoadedModel, sequences: list[dict[str, Any]], packing: bool):
    """Final hidden rows predicting each completion token (``[N, H]``), their targets, and per-sequence counts."""
    full, spans = [], []
    for index, sequence in enumerate(sequences):
        ids, prompt_length = _sequence(model, sequence, index)
        full.append(ids)
        spans.append((prompt_length, len(ids)))
    if packing and model.kind == "native":
        flat = [t for ids in full for t in ids]
        segments = torch.tensor([[i for i, ids in enumerate(full) for _ in ids]], device=model.device)
        positions = torch.tensor([[p for ids in full for p in range(len(ids))]], device=model.device)
        input_ids = torch.tensor([flat], dtype=torch.long, device=model.device)
        valid = torch.ones_like(input_ids, dtype=torch.bool)
        final, _ = model.forward(input_ids, positions, valid, segments=segments)
        offsets = [0]
        for ids in full:
            offsets.append(offsets[-1] + len(ids))
        rows = [offsets[i] + p - 1 for i, (s, e) in enumerate(spans) for p in range(s, e)]
        index = torch.tensor(rows, dtype=torch.long, device=model.device)
        hidden = final[0, index]
        targets = torch.tensor([flat[r + 1] for r in rows], dtype=torch.long, device=model.device)
    else:
        input_ids, valid, positions = right_padded(model, full)
        final, _ = model.forward(input_ids, positions, valid)
        hidden, targets = target_hidden(model, final, spans, full)
    return hidden, targets, [e - s for s, e in spans]


class Trainer:
    """Holds the optimizer and the frozen reference for one policy."""

    def __init__(self, policy: LoadedModel, reference: LoadedModel | None, optimizer_config: dict[str, Any], options: dict[str, Any]):
        self.policy = policy
        self.reference = reference
        self.optimizer_config = optimizer_config
        self.options = options
        self.step = 0
        self.diverged: Diverged | None = None
        #: set by ``distributed.DistributedMode.prepare`` under torchrun
        self.distributed: Any = None
        self.packing = bool(options.get("packing", False))
        cuda = policy.device.type == "cuda"
        self.autocast_dtype = torch.bfloat16 if cuda and options.get("autocast") == "bfloat16" else None
        if options.get("gradientCheckpointing") and policy.kind == "native":
            policy.module.gradient_checkpointing = True
        elif options.get("gradientCheckpointing"):
            policy.module.gradient_checkpointing_enable()
        self.optimizer = self._new_optimizer()
        policy.module.train()

    def _new_optimizer(self) -> torch.optim.Optimizer:
        config = self.optimizer_config
        kwargs: dict[str, Any] = dict(
            lr=0.0,
            betas=(config["beta1"], config["beta2"]),
            eps=config["eps"],
            weight_decay=config["weightDecay"],
        )
        if self.policy.device.type == "cuda" and "fused" in torch.optim.AdamW.__init__.__code__.co_varnames:
            kwargs["fused"] = True
        # decoupled weight decay on matrices and embeddings, never on norm weights (as engine-nano does)
        named = [(n, p) for n, p in self.policy.module.named_parameters() if p.requires_grad]
        decayed = [p for n, p in named if not n.endswith("norm.weight")]
        plain = [p for n, p in named if n.endswith("norm.weight")]
        groups = [{"params": decayed}, {"params": plain, "weight_decay": 0.0}]
        return torch.optim.AdamW([g for g in groups if g["params"]], **kwargs)

    def _ordered_names(self) -> list[str]:
        """Parameter names in the optimizer's own order (decayed group first)."""
        named = [(n, p) for n, p in self.policy.module.named_parameters() if p.requires_grad]
        return [n for n, _ in named if not n.endswith("norm.weight")] + [n for n, _ in named if n.endswith("norm.weight")]

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        # no autocast weight cache: the decode step may be captured in a CUDA graph
        return torch.autocast(device_type="cuda", dtype=self.autocast_dtype, cache_enabled=False)

    def autocast(self):
        """The trainer's mixed-precision context, for rollouts and scores served by the same worker."""
        return self._autocast()

    def model_for(self, which: str) -> LoadedModel:
        if which == "reference":
            if self.reference is None:
                raise InvalidInput("no reference snapshotted (call snapshot-reference first or pass init.reference)", {"field": "model"})
            return self.reference
        return self.policy

    @staticmethod
    @torch.no_grad()
    def logprobs_of(model: LoadedModel, sequences: list[dict[str, Any]]) -> list[list[float]]:
        """Completion logprobs under any loaded model (no trainer needed)."""
        hidden, targets, counts = completion_hidden(model, sequences, False)
        values, _ = token_logprobs(hidden, model.lm_head_weight, targets)
        return _split(values.float().cpu().tolist(), counts)

    @torch.no_grad()
    def logprobs(self, sequences: list[dict[str, Any]], which: str) -> list[list[float]]:
        model = self.model_for(which)
        with self._autocast():
            hidden, targets, counts = completion_hidden(model, sequences, self.packing)
            values, _ = token_logprobs(hidden, model.lm_head_weight, targets)
        return _split(values.float().cpu().tolist(), counts)

    def forward_backward(self, sequences: list[dict[str, Any]], loss: dict[str, Any], scale: float = 1.0) -> dict[str, Any]:
        """Add the gradient of ``scale * loss`` to the accumulated gradients; report the unscaled loss."""
        device = self.policy.device
        if self.distributed is not None:
            return self._forward_backward_sharded(sequences, loss, scale)
        with self._autocast():
            hidden, targets, counts = completion_hidden(self.policy, sequences, self.packing)
            logprobs, entropy = token_logprobs(hidden, self.policy.lm_head_weight, targets)
        logprobs = logprobs.float()

        def column(name: str, default: float | None) -> torch.Tensor | None:
            values: list[float] = []
            for sequence, count in zip(sequences, counts):
                given = sequence.get(name)
                if given is None:
                    if default is None:
                        return None
                    given = [default] * count
                values.extend(float(v) for v in given)
            return torch.tensor(values, dtype=torch.float32, device=device)

        weights = column("weights", 1.0)
        old = column("oldLogprobs", None)
        ref = column("refLogprobs", None)
        if ref is None and self.reference is not None and (loss["klBeta"] > 0):
            ref = torch.tensor([v for row in self.logprobs(sequences, "reference") for v in row], device=device)
        if ref is None and loss["klBeta"] > 0:
            raise InvalidInput("klBeta > 0 needs refLogprobs on every sequence or a reference model", {"field": "sequences[0].refLogprobs"})
        clip = loss.get("clip")
        clip_fraction = 0.0
        if clip is not None:
            old_values = old if old is not None else logprobs.detach()
            ratio = torch.exp(logprobs - old_values)
            unclipped = -weights * ratio
            clipped = -weights * torch.clamp(ratio, 1.0 - clip["low"], 1.0 + clip["high"])
            is_clipped = clipped > unclipped
            per_token = torch.where(is_clipped, clipped, unclipped)
            clip_fraction = float(is_clipped.float().mean().item())
        else:
            per_token = -weights * logprobs
        kl_mean = 0.0
        if ref is not None and loss["klBeta"] > 0:
            delta = ref - logprobs
            k3 = torch.exp(delta) - delta - 1.0
            kl_mean = float(k3.detach().mean().item())
            per_token = per_token + loss["klBeta"] * k3
        aggregation = loss["aggregation"]
        if aggregation == "token-mean":
            total = per_token.sum() / per_token.numel()
        elif aggregation == "sequence-mean":
            means = [part.sum() / part.numel() for part in torch.split(per_token, counts)]
            total = torch.stack(means).mean()
        else:
            total = per_token.sum() / float(loss.get("sumDivisor") or 1.0)
        value = float(total.detach().item())
        if not math.isfinite(value):
            self.optimizer.zero_grad(set_to_none=True)
            self.diverged = Diverged(self.step + 1, "loss", value)
            raise self.diverged
        (total * scale).backward()
        return {
            "loss": value,
            "tokens": int(per_token.numel()),
            "clipFraction": clip_fraction,
            "kl": kl_mean,
            "entropy": float(entropy.mean().item()),
            "logprobs": _split(logprobs.detach().cpu().tolist(), counts),
        }

    def _forward_backward_sharded(self, sequences: list[dict[str, Any]], loss: dict[str, Any], scale: float) -> dict[str, Any]:
        """Data-parallel micro-batch: this rank's share, scaled so averaged gradients equal the full loss's."""
        mode = self.distributed
        if len(sequences) < mode.world and any(type(m).__name__ == "FullyShardedDataParallel" for m in self.policy.module.modules()):
            # every rank must run a forward under FSDP (its all-gathers are collectives)
            raise InvalidInput(f"a micro-batch needs at least {mode.world} sequences under FSDP", {"field": "sequences"})
        mine = sequences[mode.rank :: mode.world]
        tokens_all = sum(len(s["completionTokenIds"]) for s in sequences)
        tokens_mine = sum(len(s["completionTokenIds"]) for s in mine)
        if loss["aggregation"] == "token-mean":
            share = tokens_mine / max(1, tokens_all)
        elif loss["aggregation"] == "sequence-mean":
            share = len(mine) / max(1, len(sequences))
        else:
            share = 1.0
        distributed, self.distributed = self.distributed, None
        try:
            local = self.forward_backward(mine, loss, scale * share * mode.world) if mine else None
        finally:
            self.distributed = distributed
        parts = mode.gather(local)
        logprobs: list[list[float]] = [[] for _ in sequences]
        total, clipped, kl, entropy = 0.0, 0.0, 0.0, 0.0
        for rank, part in enumerate(parts):
            if part is None:
                continue
            for offset, values in enumerate(part["logprobs"]):
                logprobs[rank + offset * mode.world] = values
            weight = part["tokens"] / max(1, tokens_all)
            clipped += part["clipFraction"] * weight
            kl += part["kl"] * weight
            entropy += part["entropy"] * weight
        if loss["aggregation"] == "token-mean":
            total = sum(p["loss"] * p["tokens"] for p in parts if p) / max(1, tokens_all)
        elif loss["aggregation"] == "sequence-mean":
            total = sum(p["loss"] * len(p["logprobs"]) for p in parts if p) / max(1, len(sequences))
        else:
            total = sum(p["loss"] for p in parts if p)
        return {"loss": total, "tokens": tokens_all, "clipFraction": clipped, "kl": kl, "entropy": entropy, "logprobs": logprobs}

    def _sharded_parameter_ids(self) -> set[int]:
        """Parameters managed by FSDP units (their gradients are reduce-scattered by FSDP itself)."""
        ids: set[int] = set()
        for module in self.policy.module.modules():
            if type(module).__name__ == "FullyShardedDataParallel":
                ids.update(id(p) for p in module.parameters())
        return ids

    def _all_reduce_gradients(self) -> None:
        """Average replicated gradients over ranks."""
        import torch.distributed as dist

        sharded = self._sharded_parameter_ids()
        for parameter in self.policy.module.parameters():
            if parameter.grad is None or id(parameter) in sharded:
                continue
            dist.all_reduce(parameter.grad, op=dist.ReduceOp.SUM)
            parameter.grad.div_(self.distributed.world)

    def _distributed_norm(self, parameters: list[torch.Tensor]) -> torch.Tensor:
        """Global gradient norm: sharded pieces summed over ranks, replicated ones counted once."""
        import torch.distributed as dist

        sharded = self._sharded_parameter_ids()
        device = parameters[0].grad.device if parameters else self.policy.device
        local = torch.zeros((), device=device, dtype=torch.float32)
        replicated = torch.zeros((), device=device, dtype=torch.float32)
        for p in parameters:
            squares = p.grad.detach().float().pow(2).sum()
            if id(p) in sharded:
                local = local + squares
            else:
                replicated = replicated + squares
        dist.all_reduce(local, op=dist.ReduceOp.SUM)
        return (local + replicated).sqrt()

    def optimizer_step(self, learning_rate: float, grad_clip: float | None) -> dict[str, Any]:
        if self.distributed is not None:
            self._all_reduce_gradients()
        parameters = [p for p in self.policy.module.parameters() if p.grad is not None]
        if self.distributed is not None:
            norm = self._distributed_norm(parameters)
        elif parameters:
            norm = torch.norm(torch.stack([p.grad.detach().float().norm(2) for p in parameters]), 2)
        else:
            norm = torch.zeros(())
        grad_norm = float(norm.item())
        if not math.isfinite(grad_norm):
            self.optimizer.zero_grad(set_to_none=True)
            self.diverged = Diverged(self.step + 1, "gradient norm", grad_norm)
            raise self.diverged
        if grad_clip is not None and grad_norm > grad_clip:
            scale = grad_clip / (grad_norm + 1e-6)
            for p in parameters:
                p.grad.detach().mul_(scale)
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return {"gradNorm": grad_norm, "learningRate": learning_rate, "step": self.step}

    def snapshot_reference(self) -> None:
        self.reference = self.policy.frozen_copy()

    def optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """AdamW moments as engine-nano stores them: flat ``exp_avg.<name>``/``exp_avg_sq.<name>`` float32 tensors,
        with ``step`` and the ``optimizer`` config (JSON) in the safetensors metadata."""
        tensors: dict[str, torch.Tensor] = {}
        for name, parameter in self.policy.module.named_parameters():
            if not parameter.requires_grad:
                continue
            state = self.optimizer.state.get(parameter) or {}
            for key in ("exp_avg", "exp_avg_sq"):
                value = state.get(key)
                tensors[f"{key}.{name}"] = (value.detach().float().cpu() if value is not None else torch.zeros(parameter.shape)).reshape(-1)
        return tensors, {"step": str(self.step), "optimizer": json.dumps(self.optimizer_config, separators=(",", ":"))}

    def load_optimizer_state(self, directory: Path) -> None:
        path = directory / "optimizer.safetensors"
        if not path.exists():
            raise CheckpointInvalid(f"{directory}: no optimizer.safetensors to load", {"file": str(path)})
        tensors = safetensors_io.load_file(path)
        metadata = safetensors_io.read_metadata(path)
        try:
            step = int(metadata.get("step", "0"))
        except ValueError as error:
            raise CheckpointInvalid(f"{path}: bad step {metadata.get('step')!r}", {"file": str(path), "field": "__metadata__.step"}) from error
        if metadata.get("optimizer"):
            stored = json.loads(metadata["optimizer"])
            self.optimizer_config = {**self.optimizer_config, **{k: stored[k] for k in ("beta1", "beta2", "eps", "weightDecay") if k in stored}}
        self.optimizer = self._new_optimizer()
        parameters = dict(self.policy.module.named_parameters())
        state: dict[int, dict[str, Any]] = {}
        for index, name in enumerate(self._ordered_names()):
            shape = parameters[name].shape
            moments = []
            for key in ("exp_avg", "exp_avg_sq"):
                value = tensors.get(f"{key}.{name}")
                if value is None or value.numel() != parameters[name].numel():
                    raise CheckpointInvalid(f"{path}: {key}.{name} is missing or has the wrong size", {"file": str(path), "field": f"{key}.{name}"})
                moments.append(value.reshape(shape))
            state[index] = {"step": torch.tensor(float(step)), "exp_avg": moments[0], "exp_avg_sq": moments[1]}
        groups = []
        offset = 0
        for group in self.optimizer.param_groups:
            count = len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": list(range(offset, offset + count))})
            offset += count
        self.optimizer.load_state_dict({"state": state, "param_groups": groups})
        self.step = step

    def load_weights(self, directory: Path) -> None:
        if self.policy.kind != "native":
            raise Unsupported("loading weights into a transformers model in place is not supported; start a new worker")
        weights = directory / "model.safetensors"
        if not weights.exists():
            raise CheckpointInvalid(f"{directory}: no model.safetensors", {"file": str(weights)})
        state = safetensors_io.load_file(weights)
        module = self.policy.module
        if module.config.tie_word_embeddings:
            state.pop("lm_head.weight", None)
        own = {k for k in module.state_dict() if not (module.config.tie_word_embeddings and k == "lm_head.weight")}
        if set(state) != own:
            raise CheckpointInvalid(f"{weights}: tensor names do not match the loaded model", {"file": str(weights)})
        with torch.no_grad():
            for name, parameter in module.state_dict().items():
                if name in state:
                    parameter.copy_(state[name].to(parameter.dtype))
        from .runtime import sha256_file

        self.policy.model_hash = sha256_file(weights)
        self.optimizer.zero_grad(set_to_none=True)
        self.diverged = None


def _split(values: list[float], counts: list[int]) -> list[list[float]]:
    out, offset = [], 0
    for count in counts:
        out.append(values[offset : offset + count])
        offset += count
    return out
