"""The worker as a real process: frames on stdout only, handshake, errors, cancel, shutdown, EOF."""

import time

from xfer_worker.schema import validate_response


def init(worker, checkpoint, **params):
    frame, _ = worker.request("init", {"model": {"kind": "nano", "path": str(checkpoint)}, **params})
    assert frame["type"] == "result", frame
    return frame["data"]["info"]


def test_ready_handshake_and_every_frame_matches_the_schema(worker_factory, checkpoint):
    worker = worker_factory()
    ready = worker.read()
    validate_response(ready)
    assert ready["type"] == "ready" and ready["protocolVersion"] == 1
    assert {"generate", "score", "hidden", "train"} <= set(ready["capabilities"])
    assert ready["pid"] == worker.process.pid and "torch" in ready["versions"]
    info = init(worker, checkpoint, train=True)
    assert info["numLayers"] == 2 and info["vocabSize"] == 264 and len(info["modelHash"]) == 64
    frames = []
    for kind, params in [
        ("generate", {"requests": [{"id": "g", "prompt": "hi", "sampling": {"maxTokens": 4}}]}),
        ("score", {"requests": [{"id": "s", "context": "a", "continuation": "b"}]}),
        ("tokenize", {"texts": ["a<|im_end|>"]}),
        ("detokenize", {"tokenIds": [[97, 258]]}),
        ("forward-backward", {"sequences": [{"promptTokenIds": [256], "completionTokenIds": [97]}], "loss": {}}),
        ("optimizer-step", {"learningRate": 0.001}),
    ]:
        final, others = worker.request(kind, params)
        assert final["type"] == "result", final
        frames += [final, *others]
    for frame in frames:
        validate_response(frame)
    assert any(f["type"] == "progress" for f in frames)
    tokenized = [f for f in frames if f["type"] == "result" and "tokenIds" in f["data"] and "results" not in f["data"]]
    assert tokenized[0]["data"]["tokenIds"] == [[97, 258]]
    assert worker.close() == 0


def test_stdout_is_diverted_so_stray_prints_reach_stderr(worker_factory):
    worker = worker_factory({"XFER_WORKER_FAULTS": "print"})
    worker.process.stdin.close()
    out, err = worker.process.stdout.read(), worker.process.stderr.read()
    assert worker.process.wait(timeout=30) == 0
    lines = out.decode().splitlines()
    assert len(lines) == 1 and '"type":"ready"' in lines[0]
    assert "stray print()" in err.decode() and "stray write to fd 1" in err.decode()


def test_bad_frames_get_errors_naming_the_field_and_the_worker_keeps_going(worker_factory, checkpoint):
    worker = worker_factory()
    worker.read()
    worker.send({"v": 1, "id": "early", "type": "generate", "params": {"requests": []}})
    early = worker.read()
    assert early["type"] == "error" and early["error"]["code"] == "INVALID_INPUT" and "init" in early["error"]["message"]
    worker.process.stdin.write(b"{not json\n")
    worker.process.stdin.flush()
    malformed = worker.read()
    assert malformed["id"] == "protocol" and malformed["error"]["code"] == "INVALID_INPUT"
    worker.send({"v": 1, "id": "bad", "type": "score", "params": {"requests": [{"id": "s", "context": 3, "continuation": "x"}]}})
    bad = worker.read()
    assert bad["id"] == "bad" and bad["error"]["data"]["field"] == "params.requests[0].context"
    init(worker, checkpoint)
    final, _ = worker.request("forward-backward", {"sequences": [{"promptTokenIds": [1], "completionTokenIds": [2]}], "loss": {}})
    assert final["error"]["code"] == "ENGINE_UNSUPPORTED"
    final, _ = worker.request("init", {"model": {"kind": "nano", "path": "/nonexistent"}})
    assert final["error"]["code"] == "CHECKPOINT_INVALID"
    final, _ = worker.request("tokenize", {"texts": ["ok"]})
    assert final["data"]["tokenIds"] == [[111, 107]]


def test_cancel_stops_a_running_request_and_a_queued_one(worker_factory, checkpoint):
    worker = worker_factory({"XFER_WORKER_FAULTS": "slow"})
    worker.read()
    init(worker, checkpoint)
    long = {"requests": [{"id": f"g{i}", "prompt": "x", "sampling": {"maxTokens": 120, "temperature": 1}} for i in range(8)]}
    worker.send({"v": 1, "id": "long", "type": "generate", "params": long})
    worker.send({"v": 1, "id": "queued", "type": "tokenize", "params": {"texts": ["a"]}})
    while worker.read()["type"] != "progress":
        pass
    worker.send({"v": 1, "id": "c1", "type": "cancel", "params": {"target": "long"}})
    worker.send({"v": 1, "id": "c2", "type": "cancel", "params": {"target": "queued"}})
    worker.send({"v": 1, "id": "c3", "type": "cancel", "params": {"target": "unknown"}})
    seen = {}
    started = time.monotonic()
    while len(seen) < 5:
        frame = worker.read()
        if frame["type"] in ("result", "error"):
            seen[frame["id"]] = frame
    assert time.monotonic() - started < 30
    assert seen["c1"]["data"] == {"cancelled": True} and seen["c2"]["data"] == {"cancelled": True}
    assert seen["c3"]["data"] == {"cancelled": False}
    assert seen["long"]["error"]["code"] == "CANCELLED" and seen["queued"]["error"]["code"] == "CANCELLED"
    final, _ = worker.request("shutdown", {})
    assert final["type"] == "result"
    assert worker.process.wait(timeout=30) == 0


def test_exits_cleanly_on_stdin_eof(worker_factory, checkpoint):
    worker = worker_factory()
    worker.read()
    init(worker, checkpoint)
    worker.process.stdin.close()
    assert worker.process.wait(timeout=30) == 0


def test_exits_when_its_parent_process_is_gone(worker_factory):
    import subprocess

    parent = subprocess.Popen(["sleep", "30"])
    worker = worker_factory({"XFER_PARENT_PID": str(parent.pid)})
    assert worker.read()["type"] == "ready"
    parent.kill()
    parent.wait()
    assert worker.process.wait(timeout=15) == 0
