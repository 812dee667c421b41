"""Several GPUs under ``torchrun``: rank 0 speaks the protocol, the other ranks follow.

Rank 0 reads frames and broadcasts each one (``broadcast_object_list``) before running it; every rank runs
the same request so that collectives line up, and only rank 0 writes replies (the others write to a null
channel). Cancellation is agreed on with an all-reduce at each check, so no rank is left in a collective.

Training is data-parallel over the micro-batch: rank r takes sequences r, r + world, ...; each rank's loss is
scaled so that the average of the ranks' gradients equals the gradient of the whole micro-batch's loss
(tokens, sequences or the constant divisor, per aggregation). With ``options.fsdp`` each decoder block is
wrapped in FullyShardedDataParallel (embeddings and the final norm stay replicated, so the chunked output
layer can read them), which shards parameters, gradients and optimizer state over the ranks.

Written for torch 2.x + NCCL; it cannot be exercised on the single-CPU CI machine.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import torch

from .channel import FrameChannel


class NullChannel(FrameChannel):
    """Discards every frame (ranks other than 0)."""

    def __init__(self) -> None:
        super().__init__(open(os.devnull, "wb"))


class DistributedMode:
    def __init__(self, rank: int, world: int, local_rank: int):
        self.rank = rank
        self.world = world
        self.local_rank = local_rank

    def any_true(self, flag: bool) -> bool:
        import torch.distributed as dist

        device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def gather(self, value: Any) -> list[Any]:
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, value)
        return out

    def prepare(self, server: Any) -> None:
        """After init: wrap the policy for FSDP when asked and hand the trainer its rank."""
        trainer = server.trainer
        if trainer is None:
            return
        trainer.distributed = self
        if server.options.get("fsdp") and server.policy.kind == "native":
            from torch.distributed.fsdp import FullyShardedDataParallel, MixedPrecision

            module = server.policy.module
            mixed = MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if server.options.get("autocast") == "bfloat16" else None
            layers = module.model.layers
            for index, layer in enumerate(layers):
                # one FSDP unit per decoder block; embeddings/final norm stay replicated (the output layer reads them)
                layers[index] = FullyShardedDataParallel(
                    layer,
                    mixed_precision=mixed,
                    use_orig_params=True,
                    device_id=torch.cuda.current_device(),
                )
            trainer.optimizer = trainer._new_optimizer()


    def save(self, server: Any, policy: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Gather full parameters on every rank (FSDP units), write from rank 0 only."""
        from .runtime import save_checkpoint

        if params["optimizer"] and any(type(m).__name__ == "FullyShardedDataParallel" for m in policy.module.modules()):
            from .errors import Unsupported

            raise Unsupported("saving sharded optimizer state is not supported yet; save weights only under FSDP")
        from .qwen3 import export_state

        # under FSDP, state_dict() is a collective (FULL_STATE_DICT gathers every shard): every rank calls it
        state = export_state(policy.module) if policy.kind == "native" else None
        result: dict[str, Any] = {"path": params["directory"], "sha256": "", "bytes": 0}
        if self.rank == 0:
            optimizer_state, meta = server.trainer.optimizer_state() if params["optimizer"] else (None, None)
            result = save_checkpoint(policy, params["directory"], optimizer_state, meta, state=state)
        return self.gather(result)[0]


def shard_sequences(sequences: list[dict[str, Any]], rank: int, world: int) -> list[dict[str, Any]]:
    return sequences[rank::world]


def run_distributed(channel: FrameChannel, faults: set[str]) -> int:
    import torch.distributed as dist

    from .server import _EOF, Server

    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    mode = DistributedMode(rank, world, local_rank)
    server = Server(channel if rank == 0 else NullChannel(), faults, mode)
    if rank == 0:
        server.ready()
        threading.Thread(target=server.read_forever, args=(sys.stdin.buffer,), name="xfer-reader", daemon=True).start()
    base_check = server.cancel_check

    def agreed_check(request_id: str):
        local = base_check(request_id)

        def check() -> None:
            cancelled = False
            try:
                local()
            except Exception:  # noqa: BLE001 - Cancelled
                cancelled = True
            if mode.any_true(cancelled):
                local_error = base_check(request_id)
                server.cancelled.add(request_id)
                local_error()

        return check

    server.cancel_check = agreed_check  # type: ignore[method-assign]
    try:
        while True:
            box: list[Any] = [None]
            if rank == 0:
                frame = server.frames.get()
                box[0] = None if frame is _EOF else frame
            dist.broadcast_object_list(box, src=0)
            frame = box[0]
            if frame is None:
                break
            with server.lock:
                server.queued.discard(frame["id"])
                server.current = frame["id"]
            stop = server.run_one(frame)
            with server.lock:
                server.current = None
                server.cancelled.discard(frame["id"])
            if stop:
                break
    finally:
        dist.destroy_process_group()
    return 0
