"""Shared pieces of the GPU benchmarks: Qwen3 architectures with random weights (no hub access on the GPU
machines), the same weights in xfer's module and in ``transformers``, timing, and the result lines.

Each script prints one ``key=value`` line per measurement and, last, ``ratio=<xfer/baseline>``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workers" / "torch"))

from xfer_worker.qwen3 import Qwen3Config, build_model  # noqa: E402
from xfer_worker.runtime import LoadedModel  # noqa: E402
from xfer_worker.tokenizer import ByteTokenizer  # noqa: E402

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "qwen3-0.6b": dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128),
    "qwen3-1.7b": dict(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128),
}
#: where the models live (always CUDA for real runs)
DEVICE = torch.device("cuda")
#: dense bf16 peak of an H100 SXM, for MFU
H100_BF16_PEAK_FLOPS = 989.5e12


def config_dict(name: str) -> dict[str, Any]:
    base = dict(ARCHITECTURES[name])
    base.update(model_type="qwen3", rms_norm_eps=1e-6, rope_theta=1_000_000.0, max_position_embeddings=40960, tie_word_embeddings=True)
    return base


class IdTokenizer(ByteTokenizer):
    """Prompts are given as token ids; nothing is decoded and nothing stops generation early."""

    def __init__(self, vocab_size: int):
        super().__init__({}, vocab_size, [], None, 0)
        self.token_count = vocab_size

    def encode(self, text: str) -> list[int]:
        return [int(t) for t in text.split()]

    def decode_bytes(self, ids, skip_special: bool = False) -> bytes:
        return b""

    def decode(self, ids, skip_special: bool = False) -> str:
        return ""


def require_cuda() -> torch.device:
    if not torch.cuda.is_available():
        print("this benchmark needs a CUDA GPU", file=sys.stderr)
        raise SystemExit(2)
    torch.backends.cuda.matmul.allow_tf32 = True
    return torch.device("cuda")


def xfer_model(name: str, dtype: torch.dtype, seed: int = 0) -> LoadedModel:
    config = config_dict(name)
    module = build_model(Qwen3Config.from_dict(config), None, seed).to(device=DEVICE, dtype=dtype)
    module.eval()
    return LoadedModel(
        kind="native", location=name, module=module, tokenizer=IdTokenizer(config["vocab_size"]), config=config,
        device=DEVICE, dtype=dtype, model_hash="random", tokenizer_hash="ids",
    )


def transformers_model(name: str, state: dict[str, torch.Tensor], dtype: torch.dtype):
    """The same weights in ``transformers``' Qwen3ForCausalLM (sdpa attention)."""
    import transformers

    config = transformers.Qwen3Config(**config_dict(name), torch_dtype=dtype)
    model = transformers.Qwen3ForCausalLM._from_config(config, attn_implementation="sdpa", torch_dtype=dtype)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not [k for k in missing if k != "lm_head.weight"] and not unexpected, (missing, unexpected)
    return model.to("cuda").eval()


def timed(function: Callable[[], Any], repeats: int = 3, warmup: int = 1) -> tuple[float, Any]:
    """Best wall time (seconds) of ``repeats`` runs after ``warmup`` runs, with CUDA synchronisation."""
    result = None
    for _ in range(warmup):
        result = function()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        started = time.perf_counter()
        result = function()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best, result


def header(title: str) -> None:
    props = torch.cuda.get_device_properties(0)
    print(f"# {title}")
    print(f"device={props.name} torch={torch.__version__} cuda={torch.version.cuda} date={time.strftime('%Y-%m-%d')}")
    try:
        import transformers

        print(f"transformers={transformers.__version__}")
    except ImportError:
        print("transformers=missing")
    sys.stdout.flush()


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))
