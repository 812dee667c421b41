"""The frame channel: NDJSON frames on a private duplicate of the original stdout.

``FrameChannel.open()`` duplicates fd 1 for frames, then points fd 1 at stderr at the OS level (``os.dup2``),
so anything else that writes to stdout (``print``, C extensions, CUDA libraries, NCCL) lands on stderr and can
never corrupt the protocol stream.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from typing import Any, BinaryIO

from . import PROTOCOL_VERSION


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/Inf become None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class FrameChannel:
    """Writes frames (one JSON object per line) to a private binary stream; thread-safe."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._lock = threading.Lock()

    @classmethod
    def open(cls) -> "FrameChannel":
        """Divert fd 1 to stderr and return a channel on a private duplicate of the original stdout."""
        sys.stdout.flush()
        frames_fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(os.fdopen(frames_fd, "wb", buffering=0))

    def send(self, frame: dict[str, Any]) -> None:
        frame = {"v": PROTOCOL_VERSION, **frame}
        data = json.dumps(_clean(frame), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._stream.write(data.encode("utf-8") + b"\n")

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (fault injection in tests only)."""
        with self._lock:
            self._stream.write(data)

    def result(self, request_id: str, data: Any) -> None:
        self.send({"id": request_id, "type": "result", "data": data})

    def error(self, request_id: str, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        self.send({"id": request_id, "type": "error", "error": {"code": code, "message": message, "data": data or {}}})

    def progress(self, request_id: str, done: float, total: float, tokens: float = 0, message: str | None = None) -> None:
        frame: dict[str, Any] = {"id": request_id, "type": "progress", "done": done, "total": total, "tokens": tokens}
        if message is not None:
            frame["message"] = message
        self.send(frame)

    def log(self, level: str, message: str, request_id: str = "worker") -> None:
        self.send({"id": request_id, "type": "log", "level": level, "message": message})
