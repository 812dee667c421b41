import pytest
import torch

from xfer_worker import generation, scoring
from xfer_worker.kernels import sample_tokens, token_logprobs, uniform_noise
from xfer_worker.runtime import load_model
from xfer_worker.training import completion_hidden

from conftest import write_checkpoint


def noop(*_args):
    return None


@pytest.fixture(scope="module")
def model(checkpoint):
    return load_model({"kind": "nano", "path": str(checkpoint)}, {}, torch.device("cpu"), torch.float32, 0)


def full_logprobs(model, ids):
    ids_t = torch.tensor([ids])
    final, _ = model.forward(ids_t, torch.arange(len(ids))[None], torch.ones_like(ids_t, dtype=torch.bool))
    return torch.log_softmax(final[0] @ model.lm_head_weight.t(), -1)


def sampling(**overrides):
    base = {"temperature": 0, "topP": 1, "topK": -1, "maxTokens": 12, "stop": [], "seed": 0, "logprobs": True}
    base.update(overrides)
    return base


def test_tokenizer_round_trips_bytes_and_special_tokens(model):
    text = "héllo <|im_start|>user\n<think>x</think><|im_end|>"
    ids = model.tokenizer.encode(text)
    assert 257 in ids and 258 in ids and 259 in ids and ids[:2] == [104, 195]
    assert model.tokenizer.decode(ids) == text
    assert model.tokenizer.decode(ids, skip_special=True) == "héllo user\n<think>x</think>"
    assert model.tokenizer.eos_ids == [258, 256] and model.tokenizer.token_count == 261


def test_greedy_kv_cache_decoding_matches_full_recomputation(model):
    [result] = generation.generate(model, [{"id": "a", "prompt": "The cat", "sampling": sampling()}], check_cancel=noop, on_progress=noop)
    prompt = model.tokenizer.encode("The cat")
    ids = list(prompt)
    for token, logprob in zip(result["tokenIds"], result["logprobs"]):
        row = full_logprobs(model, ids)[-1]
        assert int(torch.argmax(row[:261])) == token
        assert abs(float(row[token]) - logprob) < 1e-4
        ids.append(token)


def test_sampling_is_per_request_and_independent_of_the_batch(model):
    request = {"id": "x", "prompt": "abc", "sampling": sampling(temperature=1.0, seed=7, topP=0.9, topK=50)}
    alone = generation.generate(model, [request], check_cancel=noop, on_progress=noop)[0]
    others = [{"id": f"o{i}", "prompt": "some longer prompt " * (i + 1), "sampling": sampling(temperature=0.7, seed=i)} for i in range(3)]
    batched = generation.generate(model, others[:2] + [request] + others[2:], check_cancel=noop, on_progress=noop)
    assert batched[2]["tokenIds"] == alone["tokenIds"]
    reseeded = generation.generate(model, [{**request, "sampling": sampling(temperature=1.0, seed=8, topP=0.9, topK=50)}], check_cancel=noop, on_progress=noop)[0]
    assert reseeded["tokenIds"] != alone["tokenIds"]


def test_hashed_noise_is_uniform_enough():
    noise = uniform_noise(torch.tensor([1, 2]), 0, 20000)
    assert 0 < float(noise.min()) and float(noise.max()) < 1
    assert abs(float(noise.mean()) - 0.5) < 0.01
    assert not torch.equal(noise[0], noise[1])


def test_stop_sequences_cut_the_text_and_finish_with_stop(model):
    [free] = generation.generate(model, [{"id": "a", "prompt": "x", "sampling": sampling(maxTokens=40, temperature=1.0, seed=3)}], check_cancel=noop, on_progress=noop)
    text = model.tokenizer.decode(free["tokenIds"])
    printable = [i for i, t in enumerate(free["tokenIds"]) if 33 <= t < 127 and i > 0]
    assert printable, "the fixture checkpoint should emit some ASCII"
    stop = chr(free["tokenIds"][printable[0]])
    [cut] = generation.generate(model, [{"id": "a", "prompt": "x", "sampling": sampling(maxTokens=40, temperature=1.0, seed=3, stop=[stop])}], check_cancel=noop, on_progress=noop)
    assert cut["finishReason"] == "stop"
    assert stop not in cut["text"] and text.startswith(cut["text"])
    assert len(cut["tokenIds"]) < len(free["tokenIds"])


def test_cancel_check_stops_generation(model):
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        generation.generate(model, [{"id": "a", "prompt": "x", "sampling": sampling(maxTokens=50)}], check_cancel=check, on_progress=noop)
    assert len(calls) == 3


def test_score_gives_logprob_rank_and_greedy_flags(model):
    [result] = scoring.score(model, [{"id": "s", "context": "ab", "continuation": "cde", "fullDistribution": True}], kl_model=None, check_cancel=noop, on_progress=noop)
    ids = model.tokenizer.encode("abcde")
    rows = full_logprobs(model, ids)
    for i, token in enumerate(ids[2:]):
        row = rows[1 + i]
        assert abs(result["logprobs"][i] - float(row[token])) < 1e-5
        assert result["ranks"][i] == int((row > row[token]).sum()) + 1
        assert result["isGreedy"][i] == (result["ranks"][i] == 1)
        assert torch.allclose(torch.tensor(result["distributions"][i]), row, atol=1e-5)
    assert result["tokens"] == ["c", "d", "e"]


def test_exact_kl_against_a_second_model(model, tmp_path):
    other = load_model({"kind": "nano", "path": str(write_checkpoint(tmp_path / "other", seed=5))}, {}, torch.device("cpu"), torch.float32, 0)
    requests = [{"id": "s", "context": "hello", "continuation": " world", "fullDistribution": True}]
    same = scoring.score(model, requests, kl_model=model, check_cancel=noop, on_progress=noop)[0]
    assert max(abs(v) for v in same["kl"]) < 1e-5
    [result] = scoring.score(model, requests, kl_model=other, check_cancel=noop, on_progress=noop)
    [reference] = scoring.score(other, requests, kl_model=None, check_cancel=noop, on_progress=noop)
    for i in range(len(result["kl"])):
        p = torch.tensor(result["distributions"][i])
        q = torch.tensor(reference["distributions"][i])
        assert abs(result["kl"][i] - float((p.exp() * (p - q)).sum())) < 1e-4
        assert result["kl"][i] > 0


def test_hidden_states_pooling(model, tmp_path):
    out = scoring.hidden(model, {"id": "h", "texts": ["abc", "abcdef"], "maxLength": 4, "pooling": "mean", "batchSize": 2}, tmp_path, check_cancel=noop, on_progress=noop)
    assert out["numTexts"] == 2 and len(out["layers"]) == 3 and out["tokenCounts"] == [3, 4]
    ids = torch.tensor([model.tokenizer.encode("abc")])
    _, states = model.forward(ids, torch.arange(3)[None], torch.ones_like(ids, dtype=torch.bool), output_hidden_states=True)
    for layer, ref in enumerate(out["layers"]):
        values = torch.frombuffer(bytearray(open(ref["path"], "rb").read()), dtype=torch.float32).reshape(ref["shape"])
        assert torch.allclose(values[0], states[layer][0].mean(0), atol=1e-5)
    padded = scoring.hidden(model, {"id": "h", "texts": ["abc", "abcdef"], "maxLength": 8, "pooling": "mean-with-padding", "batchSize": 2}, tmp_path, check_cancel=noop, on_progress=noop)
    alone = scoring.hidden(model, {"id": "h", "texts": ["abc"], "maxLength": 8, "pooling": "mean-with-padding", "batchSize": 1}, tmp_path, check_cancel=noop, on_progress=noop)
    read = lambda ref: torch.frombuffer(bytearray(open(ref["path"], "rb").read()), dtype=torch.float32).reshape(ref["shape"])
    # the longest text sees no padding, the short one does: padding changes its mean
    assert not torch.allclose(read(padded["layers"][1])[0], read(alone["layers"][1])[0], atol=1e-4)


def test_chunked_logprobs_match_autograd_of_full_softmax():
    torch.manual_seed(0)
    hidden = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(11, 5, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 11, (7,))
    upstream = torch.randn(7, dtype=torch.float64)
    values, entropy = token_logprobs(hidden, weight, targets, 3)
    (values.double() * upstream).sum().backward()
    grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    log_p = torch.log_softmax(hidden @ weight.t(), -1)
    (log_p.gather(1, targets[:, None]).squeeze(1) * upstream).sum().backward()
    assert torch.allclose(values.double(), log_p.gather(1, targets[:, None]).squeeze(1).detach(), atol=1e-6)
    assert torch.allclose(entropy.double(), -(log_p.exp() * log_p).sum(-1).detach(), atol=1e-5)
    assert torch.allclose(grads[0], hidden.grad, atol=1e-6) and torch.allclose(grads[1], weight.grad, atol=1e-6)


def test_sequence_packing_equals_padding(model):
    sequences = [
        {"promptTokenIds": [1, 2, 3], "completionTokenIds": [4, 5]},
        {"promptTokenIds": [9], "completionTokenIds": [8, 7, 6, 5]},
    ]
    padded = completion_hidden(model, sequences, packing=False)
    packed = completion_hidden(model, sequences, packing=True)
    assert padded[2] == packed[2] == [2, 4]
    assert torch.equal(padded[1], packed[1])
    assert torch.allclose(padded[0], packed[0], atol=1e-5)


def test_seeded_sampler_follows_the_filtered_distribution():
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0]]).repeat(4000, 1)
    seeds = torch.arange(4000)
    ones = torch.ones(4000)

    def frequencies(temperature, top_k, top_p):
        tokens = sample_tokens(logits, seeds, 0, ones * temperature, torch.full((4000,), top_k), ones * top_p)
        return torch.bincount(tokens, minlength=5).float() / 4000

    expected = torch.softmax(logits[0] / 0.7, -1)
    assert torch.allclose(frequencies(0.7, -1, 1.0), expected, atol=0.03)
    top2 = frequencies(1.0, 2, 1.0)
    assert top2[2:].sum() == 0 and abs(float(top2[0]) - float(torch.softmax(torch.tensor([2.0, 1.0]), -1)[0])) < 0.03
    # top-p 0.6: the smallest prefix with mass >= 0.6 is {0, 1} at temperature 1 (0.53 + 0.20)
    nucleus = frequencies(1.0, -1, 0.6)
    assert nucleus[2:].sum() == 0 and nucleus[1] > 0
    greedy = sample_tokens(logits[:3], seeds[:3], 0, torch.zeros(3), torch.full((3,), -1), torch.ones(3))
    assert greedy.tolist() == [0, 0, 0]
    # the same seed and step always draw the same token; another step draws afresh
    again = sample_tokens(logits[:50], seeds[:50], 0, ones[:50], torch.full((50,), -1), ones[:50])
    assert torch.equal(again, sample_tokens(logits[:50], seeds[:50], 0, ones[:50], torch.full((50,), -1), ones[:50]))
    assert not torch.equal(again, sample_tokens(logits[:50], seeds[:50], 1, ones[:50], torch.full((50,), -1), ones[:50]))
