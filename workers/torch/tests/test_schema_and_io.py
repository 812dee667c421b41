import json
import struct

import pytest
import torch

from xfer_worker import safetensors_io
from xfer_worker.schema import SchemaError, protocol_schema, validate_request, validate_response


def test_request_defaults_are_filled_like_zod():
    frame = validate_request({"v": 1, "id": "a", "type": "generate", "params": {"requests": [{"id": "x", "prompt": "hi", "sampling": {}}]}})
    sampling = frame["params"]["requests"][0]["sampling"]
    assert sampling == {"temperature": 0, "topP": 1, "topK": -1, "maxTokens": 256, "stop": [], "seed": 0, "logprobs": False}
    init = validate_request({"v": 1, "id": "i", "type": "init", "params": {"model": {"kind": "nano", "path": "/x"}}})
    assert init["params"]["train"] is False and init["params"]["dtype"] == "float32" and init["params"]["options"] == {}


@pytest.mark.parametrize(
    "frame, field",
    [
        ({"v": 1, "id": "a", "type": "generate", "params": {"requests": [{"id": "", "prompt": "hi", "sampling": {}}]}}, "params.requests[0].id"),
        ({"v": 1, "id": "a", "type": "generate", "params": {"requests": [{"id": "x", "prompt": "hi", "sampling": {"temperature": -1}}]}}, "params.requests[0].sampling.temperature"),
        ({"v": 1, "id": "a", "type": "nope", "params": {}}, "type"),
        ({"v": 2, "id": "a", "type": "shutdown", "params": {}}, "v"),
        ({"v": 1, "id": "a", "type": "optimizer-step", "params": {}}, "params.learningRate"),
        ({"v": 1, "id": "a", "type": "forward-backward", "params": {"sequences": [{"promptTokenIds": [1], "completionTokenIds": []}], "loss": {}}}, "params.sequences[0].completionTokenIds"),
    ],
)
def test_invalid_frames_name_the_field(frame, field):
    with pytest.raises(SchemaError) as raised:
        validate_request(frame)
    assert raised.value.field == field


def test_response_schema_rejects_unknown_keys_on_closed_frames():
    validate_response({"v": 1, "id": "r", "type": "progress", "done": 1, "total": 2})
    with pytest.raises(SchemaError):
        validate_response({"v": 1, "id": "r", "type": "progress", "done": 1, "total": 2, "extra": True})


def test_schema_file_holds_both_directions():
    schema = protocol_schema()
    assert schema["version"] == 1
    types = [alternative["properties"]["type"]["const"] for alternative in schema["request"]["oneOf"]]
    assert {"init", "generate", "score", "hidden", "forward-backward", "optimizer-step", "save", "load", "cancel", "shutdown"} <= set(types)


def test_safetensors_round_trip_with_own_parser(tmp_path):
    tensors = {
        "a": torch.randn(3, 4),
        "b": torch.arange(6, dtype=torch.int32).reshape(2, 3),
        "c": torch.randn(5).to(torch.bfloat16),
        "empty": torch.zeros(0, 3),
    }
    path = tmp_path / "t.safetensors"
    safetensors_io.save_file(tensors, path)
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0
    header = json.loads(raw[8 : 8 + length])
    assert header["c"]["dtype"] == "BF16" and header["b"]["shape"] == [2, 3]
    loaded = safetensors_io.load_file(path)
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor)


def test_safetensors_rejects_truncated_data(tmp_path):
    path = tmp_path / "t.safetensors"
    safetensors_io.save_file({"a": torch.randn(10)}, path)
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(safetensors_io.SafetensorsError, match="tensor 'a'"):
        safetensors_io.load_file(path)
