"""What this worker can do here: protocol capabilities plus the fast paths that the hardware allows."""

from __future__ import annotations

import importlib.util
import platform
from typing import Any

import torch

from . import __version__

BASE = ["generate", "score", "score-distribution", "hidden", "train"]


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def torch_major() -> int:
    return int(torch.__version__.split(".")[0])


def detect() -> dict[str, Any]:
    """Capabilities for the ready frame, and the versions of what is installed."""
    cuda = torch.cuda.is_available()
    extras = ["chunked-ce", "static-kv-cache", "packing", "gradient-checkpointing", "seeded-batch-sampling"]
    if cuda:
        extras += ["cuda", "cuda-graphs"]
        if torch.cuda.is_bf16_supported():
            extras.append("bf16")
        if hasattr(torch.nn.functional, "scaled_dot_product_attention"):
            extras.append("sdpa")
        if torch_major() >= 2:
            extras.append("fused-adamw")
    if has_module("transformers"):
        extras.append("transformers")
    if cuda and has_module("vllm"):
        extras.append("vllm")
    if torch.distributed.is_available():
        extras.append("torchrun")
        if cuda:
            extras.append("fsdp")
    versions = {"python": platform.python_version(), "torch": torch.__version__, "xfer_worker": __version__}
    if cuda:
        versions["cuda"] = str(torch.version.cuda)
        versions["gpu"] = torch.cuda.get_device_name(0)
    for name in ("transformers", "vllm", "safetensors"):
        if has_module(name):
            try:
                module = __import__(name)
                versions[name] = str(getattr(module, "__version__", "?"))
            except Exception:  # noqa: BLE001 - a broken optional install must not stop the worker
                pass
    return {"capabilities": BASE + extras, "device": "cuda" if cuda else "cpu", "versions": versions}
