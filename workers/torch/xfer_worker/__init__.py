"""xfer_worker: PyTorch compute behind the xfer worker protocol v1.

Run with ``python -m xfer_worker``. The process speaks NDJSON frames on stdin/stdout (see
``protocol.schema.json``, exported from ``@xfer/core``), holds one model (and, for training, an optimizer and
an optional frozen reference) and does tensor math only: the TypeScript drivers own every loop.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
