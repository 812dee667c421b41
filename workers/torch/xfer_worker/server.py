"""The worker's frame loop: a reader thread, one compute thread (the main thread), cancel and shutdown.

Frames arrive on stdin (NDJSON, split on bytes). The reader thread validates each against the exported JSON
Schema, answers ``cancel`` at once (marking the running or queued request) and queues the rest; the main
thread runs one request at a time and answers with ``progress`` frames and one ``result`` or ``error``.
stdin EOF or ``shutdown`` ends the loop cleanly.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from . import PROTOCOL_VERSION, capabilities, generation, scoring
from .channel import FrameChannel
from .errors import Cancelled, InvalidInput, Unsupported, WorkerFailure
from .runtime import DTYPES, LoadedModel, load_model, resolve_device, save_checkpoint
from .schema import SchemaError, validate_request
from .training import Trainer

_EOF = object()


class Server:
    def __init__(self, channel: FrameChannel, faults: set[str] | None = None, follower_mode: Any = None):
        self.channel = channel
        self.faults = faults or set()
        self.frames: "queue.Queue[Any]" = queue.Queue()
        self.lock = threading.Lock()
        self.current: str | None = None
        self.queued: set[str] = set()
        self.cancelled: set[str] = set()
        self.policy: LoadedModel | None = None
        self.trainer: Trainer | None = None
        self.reference: LoadedModel | None = None
        self.options: dict[str, Any] = {}
        self.scratch = Path(tempfile.gettempdir())
        self.detected = capabilities.detect()
        self.distributed = follower_mode

    # ---- reader side -------------------------------------------------------------------------------
    def ready(self) -> None:
        self.channel.send(
            {
                "id": "ready",
                "type": "ready",
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": self.detected["capabilities"],
                "device": self.detected["device"],
                "pid": os.getpid(),
                "versions": self.detected["versions"],
            }
        )

    def read_forever(self, stream) -> None:
        """Read frames until EOF (runs in its own thread)."""
        try:
            for raw in stream:
                self.accept(raw)
        finally:
            self.frames.put(_EOF)

    def accept(self, raw: bytes) -> None:
        line = raw.strip()
        if not line:
            return
        try:
            value = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.channel.error("protocol", "INVALID_INPUT", f"malformed frame: {error}", {"line": line[:200].decode("utf-8", "replace")})
            return
        frame_id = value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) and value.get("id") else "protocol"
        try:
            frame = validate_request(value)
        except SchemaError as error:
            self.channel.error(frame_id, "INVALID_INPUT", f"invalid frame: {error}", {"field": error.field})
            return
        if frame["type"] == "cancel":
            target = frame["params"]["target"]
            with self.lock:
                known = target == self.current or target in self.queued
                if known:
                    self.cancelled.add(target)
            self.channel.result(frame["id"], {"cancelled": known})
            return
        with self.lock:
            self.queued.add(frame["id"])
        self.frames.put(frame)

    # ---- compute side ------------------------------------------------------------------------------
    def serve(self) -> None:
        """Run queued frames until shutdown or EOF."""
        while True:
            frame = self.frames.get()
            if frame is _EOF:
                return
            with self.lock:
                self.queued.discard(frame["id"])
                if frame["id"] in self.cancelled:
                    self.cancelled.discard(frame["id"])
                    skip = True
                else:
                    self.current = frame["id"]
                    skip = False
            if skip:
                self.channel.error(frame["id"], "CANCELLED", "cancelled before it started")
                continue
            stop = self.run_one(frame)
            with self.lock:
                self.current = None
                self.cancelled.discard(frame["id"])
            if stop:
                return

    def run_one(self, frame: dict[str, Any]) -> bool:
        request_id = frame["id"]
        try:
            if frame["type"] == "shutdown":
                self.channel.result(request_id, {})
                return True
            if "crash-on-" + frame["type"] in self.faults:
                sys.stderr.write(f"fault injection: crashing on {frame['type']} ({request_id})\n")
                sys.stderr.flush()
                os._exit(3)
            data = self.dispatch(frame)
            if "garbage" in self.faults:
                self.channel.send_raw(b"this line is not json\n")
                self.channel.send_raw(b'{"neither":"is this a frame"}\n')
            self.channel.result(request_id, data)
        except WorkerFailure as failure:
            self.channel.error(request_id, failure.code, failure.message, failure.data)
        except Exception as error:  # noqa: BLE001 - every failure becomes an error frame
            trace = traceback.format_exc()
            sys.stderr.write(trace)
            sys.stderr.flush()
            self.channel.error(request_id, "INTERNAL", f"{type(error).__name__}: {error}", {"traceback": trace[-4000:]})
        return False

    def cancel_check(self, request_id: str) -> Callable[[], None]:
        slow = "slow" in self.faults

        def check() -> None:
            if slow:
                time.sleep(0.02)  # fault injection: long requests stay long on fast machines
            if request_id in self.cancelled:
                raise Cancelled(f"request {request_id} was cancelled")

        return check

    def progress(self, request_id: str) -> Callable[[int, int, int], None]:
        last = [0.0]

        def report(done: int, total: int, tokens: int) -> None:
            now = time.monotonic()
            if done >= total or now - last[0] >= 0.25:
                last[0] = now
                self.channel.progress(request_id, done, total, tokens)

        return report

    def need_policy(self) -> LoadedModel:
        if self.policy is None:
            raise InvalidInput("no model loaded: send an init frame first", {"field": "type"})
        return self.policy

    def need_trainer(self) -> Trainer:
        if self.trainer is None:
            raise Unsupported("this worker was not started for training (init.params.train = false)", {"field": "type"})
        return self.trainer

    def dispatch(self, frame: dict[str, Any]) -> Any:
        if self.trainer is not None and frame["type"] in ("generate", "score", "hidden"):
            with self.trainer.autocast():
                return self._dispatch(frame)
        return self._dispatch(frame)

    def _dispatch(self, frame: dict[str, Any]) -> Any:
        kind = frame["type"]
        params = frame["params"]
        request_id = frame["id"]
        check, progress = self.cancel_check(request_id), self.progress(request_id)
        if kind == "init":
            return self.init(params)
        policy = self.need_policy()
        if kind == "generate":
            use_graph = policy.device.type == "cuda" and self.options.get("cudaGraphs", True) and policy.kind == "native"
            if self.options.get("vllm"):
                if self.trainer is not None:
                    raise Unsupported("vllm holds its own weights: a training worker generates with the native path", {"field": "options.vllm"})
                from . import vllm_generation

                return {"results": vllm_generation.generate(policy, params["requests"], self.options, on_progress=progress)}
            if policy.kind != "native":
                from .hf_generation import generate as hf_generate

                return {"results": hf_generate(policy, params["requests"], check_cancel=check, on_progress=progress)}
            was_training = policy.module.training
            policy.module.eval()
            try:
                results = generation.generate(
                    policy,
                    params["requests"],
                    check_cancel=check,
                    on_progress=progress,
                    batch_size=int(self.options.get("generateBatchSize", 64)),
                    use_cuda_graph=use_graph,
                )
            finally:
                policy.module.train(was_training)
            return {"results": results}
        if kind == "score":
            model = policy if params["model"] == "policy" else self.reference_model()
            kl_model = None
            if params.get("klAgainst") == "reference":
                kl_model = self.reference_model()
            return {"results": scoring.score(model, params["requests"], kl_model=kl_model, check_cancel=check, on_progress=progress)}
        if kind == "hidden":
            return scoring.hidden(policy, params, self.scratch, check_cancel=check, on_progress=progress)
        if kind == "tokenize":
            return {"tokenIds": [policy.tokenizer.encode(text) for text in params["texts"]]}
        if kind == "detokenize":
            return {"texts": [policy.tokenizer.decode(ids) for ids in params["tokenIds"]]}
        if kind == "logprobs":
            trainer = self.trainer
            if trainer is not None:
                return {"logprobs": trainer.logprobs(params["sequences"], params["model"])}
            model = policy if params["model"] == "policy" else self.reference_model()
            return {"logprobs": Trainer.logprobs_of(model, params["sequences"])}
        if kind == "forward-backward":
            return self.need_trainer().forward_backward(params["sequences"], params["loss"], float(params.get("scale", 1.0)))
        if kind == "optimizer-step":
            return self.need_trainer().optimizer_step(params["learningRate"], params.get("gradClip"))
        if kind == "snapshot-reference":
            trainer = self.need_trainer()
            trainer.snapshot_reference()
            self.reference = trainer.reference
            return {}
        if kind == "save":
            state, meta = (None, None)
            if self.trainer is not None and self.trainer.diverged is not None:
                raise self.trainer.diverged
            if self.distributed is not None:
                return self.distributed.save(self, policy, params)
            if params["optimizer"]:
                state, meta = self.need_trainer().optimizer_state()
            return save_checkpoint(policy, params["directory"], state, meta)
        if kind == "load":
            directory = Path(params["directory"])
            trainer = self.need_trainer()
            trainer.load_weights(directory)
            if params["optimizer"]:
                trainer.load_optimizer_state(directory)
            return {"step": trainer.step, "modelHash": policy.model_hash}
        raise InvalidInput(f"unknown request type {kind}", {"field": "type"})

    def reference_model(self) -> LoadedModel:
        reference = self.trainer.reference if self.trainer is not None else self.reference
        if reference is None:
            raise InvalidInput("no reference snapshotted (call snapshot-reference first or pass init.reference)", {"field": "model"})
        return reference

    def init(self, params: dict[str, Any]) -> dict[str, Any]:
        torch.manual_seed(params["seed"])
        self.options = dict(params.get("options") or {})
        device = resolve_device(params["device"])
        dtype = DTYPES[params["dtype"]]
        if params.get("scratchDir"):
            self.scratch = Path(params["scratchDir"])
        train = bool(params["train"])
        # training in bf16 on CUDA keeps float32 master weights and autocasts the matmuls
        load_dtype = torch.float32 if train and device.type == "cuda" and dtype != torch.float32 else dtype
        if train and load_dtype != dtype:
            self.options.setdefault("autocast", "bfloat16" if dtype == torch.bfloat16 else "float16")
        self.policy = load_model(params["model"], self.options, device, load_dtype, params["seed"])
        self.reference = None
        if params.get("reference") is not None:
            self.reference = load_model(params["reference"], self.options, device, load_dtype, params["seed"])
            self.reference.module.requires_grad_(False)
        self.trainer = None
        if train:
            optimizer = params.get("optimizer") or {"kind": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.0}
            self.trainer = Trainer(self.policy, self.reference, optimizer, self.options)
        else:
            self.policy.module.requires_grad_(False)
        if self.distributed is not None:
            self.distributed.prepare(self)
        return {"info": self.policy.info(capabilities.BASE if train else capabilities.BASE[:-1])}


def watch_parent(parent_pid: int, interval: float = 1.0) -> None:
    """Exit when the parent process is gone (no orphaned GPU workers)."""

    def loop() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=loop, name="xfer-parent-watch", daemon=True).start()
