"""Tokenizers: the nano byte-level tokenizer (256 byte tokens, then special tokens) and HF tokenizers.

The nano format (written by ``@xfer/engine-nano``): token id ``b`` (0..255) is the byte ``b``; special tokens
follow from id 256 and are listed in ``tokenizer.json`` ``added_tokens`` as ``{id, content}``. Special-token
strings that appear in text encode to their single id; everything else is UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Protocol, Sequence

_NON_BYTE_MODELS = {"BPE", "WordPiece", "Unigram", "WordLevel"}


class Tokenizer(Protocol):
    vocab_size: int
    eos_ids: list[int]
    bos_id: int | None
    pad_id: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def decode_bytes(self, ids: Sequence[int]) -> bytes: ...


class ByteTokenizer:
    """UTF-8 bytes plus special tokens matched as whole strings."""

    def __init__(
        self,
        special_tokens: dict[str, int],
        vocab_size: int,
        eos_ids: list[int],
        bos_id: int | None,
        pad_id: int | None,
        skippable: set[int] | None = None,
    ):
        self.special_tokens = dict(special_tokens)
        self.special_by_id = {token_id: text for text, token_id in special_tokens.items()}
        #: Ids the tokenizer defines (bytes + special tokens); embedding rows beyond are never sampled.
        self.token_count = max([255, *special_tokens.values()]) + 1
        self.vocab_size = max(vocab_size, self.token_count)
        #: Ids dropped by ``decode(..., skip_special=True)`` (added tokens marked ``special``).
        self.skippable = set(skippable or ())
        self.eos_ids = list(eos_ids)
        self.bos_id = bos_id
        self.pad_id = pad_id if pad_id is not None else (eos_ids[0] if eos_ids else 0)
        ordered = sorted(special_tokens, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(token) for token in ordered)) if ordered else None

    def encode(self, text: str) -> list[int]:
        if self._pattern is None:
            return list(text.encode("utf-8"))
        ids: list[int] = []
        position = 0
        for match in self._pattern.finditer(text):
            ids.extend(text[position : match.start()].encode("utf-8"))
            ids.append(self.special_tokens[match.group(0)])
            position = match.end()
        ids.extend(text[position:].encode("utf-8"))
        return ids

    def decode_bytes(self, ids: Sequence[int], skip_special: bool = False) -> bytes:
        out = bytearray()
        for token_id in ids:
            token_id = int(token_id)
            if token_id < 256:
                out.append(token_id)
            elif not (skip_special and token_id in self.skippable):
                out.extend(self.special_by_id.get(token_id, "").encode("utf-8"))
        return bytes(out)

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> str:
        """UTF-8 with U+FFFD for invalid bytes; ids beyond the tokenizer decode to nothing."""
        out: list[str] = []
        run = bytearray()
        for token_id in ids:
            token_id = int(token_id)
            if token_id < 256:
                run.append(token_id)
                continue
            out.append(run.decode("utf-8", errors="replace"))
            run = bytearray()
            if not (skip_special and token_id in self.skippable):
                out.append(self.special_by_id.get(token_id, ""))
        out.append(run.decode("utf-8", errors="replace"))
        return "".join(out)

    def token_text(self, token_id: int) -> str:
        if token_id < 256:
            return bytes([token_id]).decode("utf-8", errors="replace")
        return self.special_by_id.get(token_id, "")


class HfTokenizer:
    """A ``transformers`` tokenizer behind the same small interface."""

    def __init__(self, inner: Any, eos_ids: list[int]):
        self.inner = inner
        self.vocab_size = len(inner)
        self.token_count = len(inner)
        self.eos_ids = eos_ids or ([inner.eos_token_id] if inner.eos_token_id is not None else [])
        self.bos_id = inner.bos_token_id
        pad = inner.pad_token_id
        self.pad_id = pad if pad is not None else (self.eos_ids[0] if self.eos_ids else 0)

    def encode(self, text: str) -> list[int]:
        return list(self.inner.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> str:
        return self.inner.decode(list(ids), skip_special_tokens=skip_special)

    def decode_bytes(self, ids: Sequence[int], skip_special: bool = False) -> bytes:
        return self.decode(ids, skip_special).encode("utf-8")

    def token_text(self, token_id: int) -> str:
        return self.inner.decode([token_id], skip_special_tokens=False)


def _as_list(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


def _compact(value: Any) -> str:
    """``JSON.stringify(value)`` for the JSON found in tokenizer files (no spaces, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def tokenizer_hash(directory: str | Path) -> str:
    """sha256 identifying the tokenizer.

    For a byte-level nano checkpoint it is engine-nano's own formula, sha256(JSON.stringify(tokenizer.json) +
    JSON.stringify(tokenizer_config.json)), so both engines report the same hash for the same tokenizer;
    otherwise sha256 over the tokenizer files present.
    """
    tokenizer_json, config_json = Path(directory) / "tokenizer.json", Path(directory) / "tokenizer_config.json"
    if tokenizer_json.exists() and config_json.exists():
        spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        model = spec.get("model") or {}
        if model.get("type") == "BPE" and not model.get("merges") and len(model.get("vocab") or {}) == 256:
            text = _compact(spec) + _compact(json.loads(config_json.read_text(encoding="utf-8")))
            return hashlib.sha256(text.encode("utf-8")).hexdigest()
    digest = hashlib.sha256()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json"):
        path = Path(directory) / name
        if path.exists():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def is_byte_level(directory: str | Path, config: dict[str, Any]) -> bool:
    path = Path(directory) / "tokenizer.json"
    if not path.exists():
        return False
    spec = json.loads(path.read_text(encoding="utf-8"))
    model = spec.get("model") or {}
    kind = model.get("type") if isinstance(model, dict) else None
    if kind == "BPE" and not model.get("merges") and len(model.get("vocab") or {}) == 256:
        return True  # the nano format: a BPE over the 256 ByteLevel symbols with no merges
    return kind not in _NON_BYTE_MODELS


def load_tokenizer(directory: str | Path, config: dict[str, Any]) -> Tokenizer:
    """The nano byte tokenizer when ``tokenizer.json`` describes one, else ``transformers.AutoTokenizer``."""
    directory = Path(directory)
    eos_ids = _as_list(config.get("eos_token_id"))
    if is_byte_level(directory, config):
        spec = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))
        specials: dict[str, int] = {}
        skippable: set[int] = set()
        for entry in spec.get("added_tokens", []) or []:
            specials[str(entry["content"])] = int(entry["id"])
            if entry.get("special", True):
                skippable.add(int(entry["id"]))
        for text, token_id in (spec.get("special_tokens") or {}).items() if isinstance(spec.get("special_tokens"), dict) else []:
            specials.setdefault(str(text), int(token_id))
        def special(name: str) -> int | None:
            value = config.get(f"{name}_token_id")
            if isinstance(value, list):
                value = value[0] if value else None
            if value is None and isinstance(spec.get(f"{name}_token"), str):
                value = specials.get(spec[f"{name}_token"])
            return None if value is None else int(value)
        if not eos_ids and special("eos") is not None:
            eos_ids = [special("eos")]  # type: ignore[list-item]
        generation = directory / "generation_config.json"
        if generation.exists():
            for token_id in _as_list(json.loads(generation.read_text(encoding="utf-8")).get("eos_token_id")):
                if token_id not in eos_ids:
                    eos_ids.append(token_id)
        vocab_size = int(config.get("vocab_size", 256 + len(specials)))
        return ByteTokenizer(specials, vocab_size, eos_ids, special("bos"), special("pad"), skippable)
    try:
        from transformers import AutoTokenizer  # type: ignore
    except ImportError as error:
        raise RuntimeError(f"{directory}: not a byte-level nano tokenizer and transformers is not installed") from error
    return HfTokenizer(AutoTokenizer.from_pretrained(str(directory)), eos_ids)
