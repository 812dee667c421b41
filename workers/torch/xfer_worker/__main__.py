"""``python -m xfer_worker``: divert stdout, announce ``ready``, serve frames until shutdown or stdin EOF.

Under ``torchrun`` (``WORLD_SIZE > 1``) rank 0 speaks the protocol and broadcasts every frame to the other
ranks, which run the same computation silently (see ``distributed.py``).
"""

from __future__ import annotations

import os
import sys
import threading


def main() -> int:
    from .channel import FrameChannel

    channel = FrameChannel.open()  # before anything can print
    faults = {f.strip() for f in os.environ.get("XFER_WORKER_FAULTS", "").split(",") if f.strip()}
    if "print" in faults:
        print("fault injection: a stray print() that must land on stderr")
        os.write(1, b"fault injection: a stray write to fd 1 that must land on stderr\n")
    from .server import Server, watch_parent

    parent = os.environ.get("XFER_PARENT_PID")
    if parent and parent.isdigit():
        watch_parent(int(parent))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        from .distributed import run_distributed

        return run_distributed(channel, faults)
    server = Server(channel, faults)
    server.ready()
    reader = threading.Thread(target=server.read_forever, args=(sys.stdin.buffer,), name="xfer-reader", daemon=True)
    reader.start()
    server.serve()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # daemon threads may still block on stdin; leave without waiting for them
    os._exit(code)
