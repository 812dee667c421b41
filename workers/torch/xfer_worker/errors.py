"""Worker-side errors; each maps to a wire error code of ``@xfer/core``."""

from __future__ import annotations

from typing import Any


class WorkerFailure(Exception):
    """An error with a stable wire ``code`` and JSON ``data``."""

    code = "INTERNAL"

    def __init__(self, message: str, data: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.data = data or {}
        if code is not None:
            self.code = code


class InvalidInput(WorkerFailure):
    code = "INVALID_INPUT"


class Unsupported(WorkerFailure):
    code = "ENGINE_UNSUPPORTED"


class Cancelled(WorkerFailure):
    code = "CANCELLED"


class CheckpointInvalid(WorkerFailure):
    code = "CHECKPOINT_INVALID"


class Diverged(WorkerFailure):
    code = "TRAINING_DIVERGED"

    def __init__(self, step: int, tensor: str, value: float):
        super().__init__(
            f"training diverged at step {step}: {tensor} is {value}",
            {"step": step, "tensor": tensor, "value": str(value)},
        )
