"""Read and write ``.safetensors`` files: 8-byte little-endian header length, a JSON header, raw data.

Uses the ``safetensors`` package when it is installed and this parser otherwise (Debian's torch image has no
``safetensors``); both read the same files.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Mapping

import torch

_DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


class SafetensorsError(ValueError):
    """The file is not a valid safetensors file; names the file and the tensor."""


def read_header(path: str | Path) -> tuple[dict, int]:
    """Return the JSON header and the byte offset where tensor data starts."""
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) != 8:
            raise SafetensorsError(f"{path}: too short for a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        if length > 100 * 1024 * 1024:
            raise SafetensorsError(f"{path}: header length {length} is implausible")
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"{path}: malformed header JSON: {error}") from error
    return header, 8 + length


def load_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Load every tensor of a safetensors file onto the CPU."""
    try:
        from safetensors.torch import load_file as native_load  # type: ignore

        return native_load(str(path))
    except ImportError:
        pass
    header, start = read_header(path)
    data = Path(path).read_bytes()
    tensors: dict[str, torch.Tensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{path}: tensor '{name}' has unsupported dtype {entry.get('dtype')}")
        begin, end = entry["data_offsets"]
        shape = list(entry["shape"])
        count = 1
        for size in shape:
            count *= size
        itemsize = torch.empty((), dtype=dtype).element_size()
        if end - begin != count * itemsize or start + end > len(data):
            raise SafetensorsError(f"{path}: tensor '{name}' has offsets {begin}..{end} that do not fit shape {shape}")
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        buffer = bytearray(data[start + begin : start + end])
        tensors[name] = torch.frombuffer(buffer, dtype=dtype).reshape(shape).clone()
    return tensors


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``__metadata__`` string map of a safetensors file (empty when absent)."""
    header, _ = read_header(path)
    return dict(header.get("__metadata__") or {})


def save_file(tensors: Mapping[str, torch.Tensor], path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write tensors (sorted by name, 8-byte aligned header) to ``path``."""
    header: dict = {"__metadata__": dict(metadata or {"format": "pt"})}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        if tensor.dtype not in _NAMES:
            raise SafetensorsError(f"{path}: tensor '{name}' has unsupported dtype {tensor.dtype}")
        if tensor.dtype == torch.bfloat16:
            raw = tensor.view(torch.int16).numpy().tobytes()
        else:
            raw = tensor.numpy().tobytes()
        header[name] = {"dtype": _NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for chunk in chunks:
            handle.write(chunk)
