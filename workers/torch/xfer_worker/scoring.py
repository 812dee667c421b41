"""Scoring (per-token logprob, rank, greedy flag, optional full distribution and exact KL) and hidden states.

Logits are computed from the final hidden states in row chunks (``kernels.logit_chunks``), so the full
``[batch, tokens, vocab]`` float32 tensor never exists; the exact KL against a second model streams the same
chunks of both models side by side.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable

import torch

from .errors import InvalidInput
from .kernels import default_chunk, logit_chunks
from .runtime import LoadedModel


def _context_ids(model: LoadedModel, context: str) -> list[int]:
    ids = model.tokenizer.encode(context)
    if ids:
        return ids
    prefix = model.tokenizer.bos_id if model.tokenizer.bos_id is not None else (model.tokenizer.eos_ids or [None])[0]
    if prefix is None:
        raise InvalidInput("empty context and the tokenizer has neither BOS nor EOS", {"field": "context"})
    return [prefix]


def right_padded(model: LoadedModel, sequences: list[list[int]]):
    """``input_ids [B, T]``, ``valid [B, T]``, ``positions [B, T]`` for right-padded sequences."""
    longest = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), longest), model.tokenizer.pad_id, dtype=torch.long)
    valid = torch.zeros(len(sequences), longest, dtype=torch.bool)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        valid[row, : len(seq)] = True
    positions = torch.arange(longest).expand(len(sequences), longest)
    return ids.to(model.device), valid.to(model.device), positions.to(model.device)


def target_hidden(model: LoadedModel, final: torch.Tensor, spans: list[tuple[int, int]], sequences: list[list[int]]):
    """Gather the hidden rows that predict each continuation token: ``[N, H]`` rows and ``[N]`` targets."""
    rows, positions, targets = [], [], []
    for row, ((start, end), seq) in enumerate(zip(spans, sequences)):
        for position in range(start, end):
            rows.append(row)
            positions.append(position - 1)
            targets.append(seq[position])
    device = final.device
    index_rows = torch.tensor(rows, dtype=torch.long, device=device)
    index_positions = torch.tensor(positions, dtype=torch.long, device=device)
    return final[index_rows, index_positions], torch.tensor(targets, dtype=torch.long, device=device)


@torch.no_grad()
def score(
    model: LoadedModel,
    requests: list[dict[str, Any]],
    *,
    kl_model: LoadedModel | None,
    check_cancel: Callable[[], None],
    on_progress: Callable[[int, int, int], None],
    batch_size: int = 16,
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    tokens_done = 0
    for start in range(0, len(requests), batch_size):
        check_cancel()
        chunk = requests[start : start + batch_size]
        sequences, spans, continuations = [], [], []
        for index, request in enumerate(chunk):
            context = _context_ids(model, request["context"])
            continuation = model.tokenizer.encode(request["continuation"])
            if not continuation:
                raise InvalidInput("empty continuation", {"field": f"requests[{start + index}].continuation"})
            if len(context) + len(continuation) - 1 > model.max_context:
                raise InvalidInput(
                    f"{len(context) + len(continuation) - 1} tokens exceed the context of {model.max_context}",
                    {"field": f"requests[{start + index}]"},
                )
            sequences.append(context + continuation)
            spans.append((len(context), len(context) + len(continuation)))
            continuations.append(continuation)
        ids, valid, positions = right_padded(model, sequences)
        final, _ = model.forward(ids, positions, valid)
        hidden, targets = target_hidden(model, final, spans, sequences)
        reference_hidden = None
        if kl_model is not None:
            ref_final, _ = kl_model.forward(ids, positions, valid)
            reference_hidden, _ = target_hidden(kl_model, ref_final, spans, sequences)
        weight = model.lm_head_weight
        chunk_rows = default_chunk(weight.shape[0])
        logprobs = torch.empty(hidden.shape[0])
        ranks = torch.empty(hidden.shape[0], dtype=torch.long)
        kls = torch.empty(hidden.shape[0]) if kl_model is not None else None
        want_distribution = any(r["fullDistribution"] for r in chunk)
        distributions: list[list[float]] = []
        for row_start, row_end, logits in logit_chunks(hidden, weight, chunk_rows):
            target = targets[row_start:row_end, None]
            target_logits = logits.gather(1, target)
            log_p = torch.log_softmax(logits, dim=-1)
            logprobs[row_start:row_end] = log_p.gather(1, target).squeeze(1).cpu()
            ranks[row_start:row_end] = ((logits > target_logits).sum(-1) + 1).cpu()
            if kls is not None:
                ref_logits = torch.matmul(reference_hidden[row_start:row_end], kl_model.lm_head_weight.t()).float()
                log_q = torch.log_softmax(ref_logits, dim=-1)
                kls[row_start:row_end] = (log_p.exp() * (log_p - log_q)).sum(-1).cpu()
            if want_distribution:
                distributions.extend(log_p.cpu().tolist())
        offset = 0
        for request, continuation in zip(chunk, continuations):
            n = len(continuation)
            item_ranks = ranks[offset : offset + n].tolist()
            result: dict[str, Any] = {
                "id": request["id"],
                "tokenIds": continuation,
                "tokens": [model.tokenizer.token_text(t) for t in continuation],
                "logprobs": logprobs[offset : offset + n].tolist(),
                "ranks": item_ranks,
                "isGreedy": [r == 1 for r in item_ranks],
            }
            if request["fullDistribution"]:
                result["distributions"] = distributions[offset : offset + n]
            if kls is not None:
                result["kl"] = kls[offset : offset + n].tolist()
            results.append(result)
            offset += n
            tokens_done += n
        on_progress(len(results), len(requests), tokens_done)
    return results


@torch.no_grad()
def hidden(
    model: LoadedModel,
    request: dict[str, Any],
    scratch: Path,
    *,
    check_cancel: Callable[[], None],
    on_progress: Callable[[int, int, int], None],
) -> dict[str, Any]:
    """Per-layer pooled hidden states, written as float32 ``[texts, hidden]`` files under ``scratch``."""
    tokenizer = model.tokenizer
    texts = request["texts"]
    pooling = request["pooling"]
    encoded = []
    for index, text in enumerate(texts):
        ids = tokenizer.encode(text)[: request["maxLength"]]
        if not ids:
            if tokenizer.bos_id is None:
                raise InvalidInput("empty text and the tokenizer has no BOS token", {"field": f"texts[{index}]"})
            ids = [tokenizer.bos_id]
        encoded.append(ids)
    layers = model.num_layers + 1
    pooled = torch.zeros(layers, len(texts), model.hidden_size, dtype=torch.float32)
    for start in range(0, len(texts), request["batchSize"]):
        check_cancel()
        batch = encoded[start : start + request["batchSize"]]
        longest = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), longest), tokenizer.pad_id, dtype=torch.long)
        valid = torch.zeros(len(batch), longest, dtype=torch.bool)
        for row, seq in enumerate(batch):
            ids[row, longest - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            valid[row, longest - len(seq) :] = True
        ids, valid = ids.to(model.device), valid.to(model.device)
        if pooling == "mean-with-padding" and model.kind == "native":
            # the paper's code: left padding, no position_ids (real tokens sit at positions pad..T-1); padding
            # rows form their own causal run and real tokens never attend to them (as engine-nano does)
            positions = torch.arange(longest, device=model.device).expand(len(batch), longest)
            everything = torch.ones_like(valid)
            _, states = model.forward(ids, positions, everything, output_hidden_states=True, segments=valid.long())
        else:
            if pooling == "mean-with-padding":
                positions = torch.arange(longest, device=model.device).expand(len(batch), longest)
            else:
                positions = (valid.long().cumsum(-1) - 1).clamp_min(0)
            _, states = model.forward(ids, positions, valid, output_hidden_states=True)
        weights = valid.float()
        for layer, state in enumerate(states):
            state = state.float()
            if pooling == "mean":
                value = (state * weights[..., None]).sum(1) / weights.sum(1, keepdim=True)
            elif pooling == "mean-with-padding":
                value = state.mean(1)
            else:
                value = state[:, -1]
            pooled[layer, start : start + len(batch)] = value.cpu()
        on_progress(min(start + len(batch), len(texts)), len(texts), sum(len(s) for s in batch))
    scratch.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    refs = []
    for layer in range(layers):
        path = scratch / f"hidden-{tag}-layer{layer:03d}.f32"
        path.write_bytes(pooled[layer].contiguous().numpy().astype("<f4").tobytes())
        refs.append({"path": str(path), "dtype": "float32", "shape": [len(texts), model.hidden_size]})
    return {"hiddenSize": model.hidden_size, "numTexts": len(texts), "layers": refs, "tokenCounts": [len(s) for s in encoded]}
