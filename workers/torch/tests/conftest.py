"""Fixtures: a tiny random nano-format checkpoint written by the test itself, and a worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xfer_worker import safetensors_io  # noqa: E402
from xfer_worker.qwen3 import Qwen3Config, build_model, export_state  # noqa: E402

SPECIALS = [
    ("<|endoftext|>", 256, True),
    ("<|im_start|>", 257, True),
    ("<|im_end|>", 258, True),
    ("<think>", 259, False),
    ("</think>", 260, False),
]

TINY = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "vocab_size": 264,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "hidden_act": "silu",
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000,
    "tie_word_embeddings": True,
    "bos_token_id": 256,
    "eos_token_id": 258,
    "pad_token_id": 256,
    "torch_dtype": "float32",
}


def byte_to_unicode() -> list[str]:
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table = [""] * 256
    for b in printable:
        table[b] = chr(b)
    extra = 0
    for b in range(256):
        if not table[b]:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def write_checkpoint(directory: Path, seed: int = 0, config: dict | None = None) -> Path:
    """A nano-format checkpoint (the files engine-nano writes) with random N(0, 0.02²)... weights."""
    config = dict(config or TINY)
    directory.mkdir(parents=True, exist_ok=True)
    model = build_model(Qwen3Config.from_dict(config), None, seed)
    # larger weights than the init so that greedy decoding is not a tie-fest
    with torch.no_grad():
        generator = torch.Generator().manual_seed(seed)
        for name, parameter in model.named_parameters():
            if not name.endswith("norm.weight"):
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    safetensors_io.save_file(export_state(model), directory / "model.safetensors", {"format": "pt"})
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    table = byte_to_unicode()
    tokenizer = {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": c, "special": s} for c, i, s in SPECIALS],
        "pre_tokenizer": {"type": "ByteLevel"},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": {table[b]: b for b in range(256)}, "merges": []},
    }
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer) + "\n")
    (directory / "generation_config.json").write_text(json.dumps({"bos_token_id": 256, "eos_token_id": [258, 256], "pad_token_id": 256}) + "\n")
    return directory


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("nano") / "tiny", seed=1)


class WorkerProcess:
    """A real ``python -m xfer_worker`` process driven frame by frame."""

    def __init__(self, env: dict[str, str] | None = None):
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "xfer_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
        )
        self.counter = 0

    def read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise EOFError(self.process.stderr.read().decode())
        return json.loads(line)

    def send(self, frame: dict) -> None:
        self.process.stdin.write((json.dumps(frame) + "\n").encode())
        self.process.stdin.flush()

    def request(self, kind: str, params: dict) -> tuple[dict, list[dict]]:
        """Send one request; return its final frame and every other frame seen meanwhile."""
        self.counter += 1
        request_id = f"r{self.counter}"
        self.send({"v": 1, "id": request_id, "type": kind, "params": params})
        others = []
        while True:
            frame = self.read()
            if frame.get("id") == request_id and frame["type"] in ("result", "error"):
                return frame, others
            others.append(frame)

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode


@pytest.fixture
def worker_factory():
    workers: list[WorkerProcess] = []

    def make(env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(env)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
