"""Two ranks on CPU (gloo), launched as torchrun would: rank 0 speaks the protocol, rank 1 follows, and the
data-parallel step equals the single-process one."""

import json
import os
import socket
import subprocess
import sys

import torch

from conftest import ROOT
from xfer_worker.runtime import load_model
from xfer_worker.training import Trainer

ADAMW = {"kind": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.0}
SEQUENCES = [
    {"promptTokenIds": [256, 1, 2], "completionTokenIds": [3, 4, 5]},
    {"promptTokenIds": [256], "completionTokenIds": [7, 8]},
    {"promptTokenIds": [256, 9], "completionTokenIds": [10]},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rank_zero_speaks_and_the_sharded_step_equals_the_single_process_step(checkpoint, tmp_path):
    single = Trainer(load_model({"kind": "nano", "path": str(checkpoint)}, {}, torch.device("cpu"), torch.float32, 0), None, ADAMW, {})
    expected = single.forward_backward(SEQUENCES, {"clip": None, "klBeta": 0.0, "aggregation": "token-mean"})
    expected_step = single.optimizer_step(0.001, None)

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(ROOT),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "WORLD_SIZE": "2",
        "LOCAL_WORLD_SIZE": "2",
    }
    follower = subprocess.Popen([sys.executable, "-m", "xfer_worker"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**env, "RANK": "1", "LOCAL_RANK": "1"})
    leader = subprocess.Popen([sys.executable, "-m", "xfer_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**env, "RANK": "0", "LOCAL_RANK": "0"})
    try:

        def send(frame):
            leader.stdin.write((json.dumps(frame) + "\n").encode())
            leader.stdin.flush()

        def reply():
            while True:
                line = leader.stdout.readline()
                assert line, leader.stderr.read().decode()[-2000:]
                frame = json.loads(line)
                if frame["type"] != "progress":
                    return frame

        assert reply()["type"] == "ready"
        send({"v": 1, "id": "i", "type": "init", "params": {"model": {"kind": "nano", "path": str(checkpoint)}, "train": True, "optimizer": ADAMW}})
        assert reply()["type"] == "result"
        send({"v": 1, "id": "f", "type": "forward-backward", "params": {"sequences": SEQUENCES, "loss": {}}})
        out = reply()["data"]
        assert abs(out["loss"] - expected["loss"]) < 1e-5 and out["tokens"] == 6
        for got, want in zip(out["logprobs"], expected["logprobs"]):
            assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5
        send({"v": 1, "id": "o", "type": "optimizer-step", "params": {"learningRate": 0.001}})
        step = reply()["data"]
        assert abs(step["gradNorm"] - expected_step["gradNorm"]) < 1e-4 and step["step"] == 1
        send({"v": 1, "id": "s", "type": "save", "params": {"directory": str(tmp_path / "dp")}})
        assert reply()["type"] == "result"
        leader.stdin.close()
        assert leader.wait(timeout=60) == 0 and follower.wait(timeout=60) == 0
        assert follower.stdout.read() == b"", "only rank 0 writes frames"
    finally:
        for process in (leader, follower):
            if process.poll() is None:
                process.kill()
                process.wait()
    saved = load_model({"kind": "nano", "path": str(tmp_path / "dp")}, {}, torch.device("cpu"), torch.float32, 0)
    for (name, a), (_, b) in zip(single.policy.module.named_parameters(), saved.module.named_parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
