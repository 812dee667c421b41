"""Loading, holding and saving models: nano/Qwen3 checkpoints natively, any HF causal LM via transformers."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import safetensors_io
from .errors import CheckpointInvalid, InvalidInput, Unsupported
from .qwen3 import Qwen3Config, StaticCache, build_model, export_state
from .tokenizer import Tokenizer, load_tokenizer, tokenizer_hash

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "generation_config.json",
    "chat_template.jinja",
)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_device(requested: str) -> torch.device:
    if requested in ("auto", ""):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise Unsupported(f"device '{requested}' requested but CUDA is not available", {"field": "device"})
    return device


def resolve_model_directory(ref: dict[str, Any], options: dict[str, Any]) -> tuple[str, str]:
    """Return ``(kind, location)``: ``('native'|'transformers', directory or hub id)``."""
    kind = ref["kind"]
    if kind == "openai":
        raise Unsupported("the torch worker cannot load a model behind an OpenAI-compatible endpoint", {"field": "model.kind"})
    if kind == "hf":
        return "transformers", ref["id"]
    if kind == "nano":
        if ref.get("path"):
            directory = ref["path"]
        else:
            base = options.get("nanoDirectory") or os.environ.get("XFER_NANO_MODELS") or os.environ.get("XFER_NANO_DIR")
            if not base:
                raise InvalidInput(
                    f"nano model '{ref['name']}' given by name, but no nanoDirectory option or XFER_NANO_MODELS to find it in",
                    {"field": "model.name"},
                )
            directory = str(Path(base) / ref["name"])
    else:
        directory = ref["path"]
    config_path = Path(directory) / "config.json"
    if not config_path.exists():
        raise CheckpointInvalid(f"{directory}: no config.json", {"file": str(config_path)})
    config = json.loads(config_path.read_text(encoding="utf-8"))
    native = (
        config.get("model_type") == "qwen3"
        and (Path(directory) / "model.safetensors").exists()
        and options.get("backend", "auto") != "transformers"
    )
    if options.get("backend") == "native" and not native:
        raise Unsupported(f"{directory}: the native backend needs a qwen3 model with one model.safetensors", {"field": "options.backend"})
    return ("native" if native else "transformers"), directory


@dataclass
class LoadedModel:
    """One model in memory with its tokenizer and identity."""

    kind: str
    location: str
    module: Any
    tokenizer: Tokenizer
    config: dict[str, Any]
    device: torch.device
    dtype: torch.dtype
    model_hash: str
    tokenizer_hash: str
    chat_template: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_layers(self) -> int:
        return int(self.config["num_hidden_layers"])

    @property
    def hidden_size(self) -> int:
        return int(self.config["hidden_size"])

    @property
    def vocab_size(self) -> int:
        return int(self.config["vocab_size"])

    @property
    def max_context(self) -> int:
        return int(self.config.get("max_position_embeddings", 4096))

    @property
    def lm_head_weight(self) -> torch.Tensor:
        if self.kind == "native":
            return self.module.lm_head_weight
        return self.module.get_output_embeddings().weight

    def forward(self, input_ids, position_ids, key_valid, cache=None, slots=None, output_hidden_states=False, segments=None):
        """Final normed hidden states ``[B, T, H]`` and, when asked, every hidden state (embeddings first)."""
        if self.kind == "native":
            return self.module(input_ids, position_ids, key_valid, cache, slots, output_hidden_states, segments)
        if cache is not None or segments is not None:
            raise Unsupported("static caches and packing need the native Qwen3 backend")
        out = self.module.base_model(
            input_ids=input_ids,
            attention_mask=key_valid.long(),
            position_ids=position_ids,
            output_hidden_states=output_hidden_states,
            use_cache=False,
        )
        hidden = list(out.hidden_states) if output_hidden_states else []
        return out.last_hidden_state, hidden

    def new_cache(self, batch: int, slots: int) -> StaticCache:
        if self.kind != "native":
            raise Unsupported("static KV cache needs the native Qwen3 backend")
        dtype = self.dtype
        if self.device.type == "cuda" and torch.is_autocast_enabled():
            # keys/values come out of autocast matmuls
            dtype = torch.get_autocast_dtype("cuda") if hasattr(torch, "get_autocast_dtype") else torch.get_autocast_gpu_dtype()
        return StaticCache(self.module.config, batch, slots, self.device, dtype)

    def info(self, capabilities: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "engine": "torch",
            "model": self.location,
            "modelHash": self.model_hash,
            "tokenizerHash": self.tokenizer_hash,
            "vocabSize": self.vocab_size,
            "numLayers": self.num_layers,
            "hiddenSize": self.hidden_size,
            "maxContext": self.max_context,
            "capabilities": capabilities,
            "backend": self.kind,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
        }
        if self.chat_template is not None:
            out["chatTemplate"] = self.chat_template
            out["chatTemplateHash"] = hashlib.sha256(self.chat_template.encode("utf-8")).hexdigest()
        return out

    def frozen_copy(self) -> "LoadedModel":
        """A deep copy with gradients off (the KL reference)."""
        module = copy.deepcopy(self.module)
        module.eval()
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        extra = {k: v for k, v in self.extra.items() if k != "decoder"}  # captured graphs belong to the policy
        return LoadedModel(**{**self.__dict__, "module": module, "extra": extra})


def _chat_template(directory: Path) -> str | None:
    jinja = directory / "chat_template.jinja"
    if jinja.exists():
        return jinja.read_text(encoding="utf-8")
    config = directory / "tokenizer_config.json"
    if config.exists():
        template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
        return template if isinstance(template, str) else None
    return None


def load_model(ref: dict[str, Any], options: dict[str, Any], device: torch.device, dtype: torch.dtype, seed: int) -> LoadedModel:
    kind, location = resolve_model_directory(ref, options)
    if kind == "native":
        directory = Path(location)
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        weights = directory / "model.safetensors"
        try:
            state = safetensors_io.load_file(weights)
            module = build_model(Qwen3Config.from_dict(config), state, seed)
        except (KeyError, ValueError) as error:
            raise CheckpointInvalid(f"{weights}: {error}", {"file": str(weights)}) from error
        module.to(device=device, dtype=dtype)
        module.eval()
        return LoadedModel(
            kind="native",
            location=str(directory),
            module=module,
            tokenizer=load_tokenizer(directory, config),
            config=config,
            device=device,
            dtype=dtype,
            model_hash=sha256_file(weights),
            tokenizer_hash=tokenizer_hash(directory),
            chat_template=_chat_template(directory),
            extra={"sourceDirectory": str(directory)},
        )
    try:
        import transformers  # type: ignore
    except ImportError as error:
        raise Unsupported(f"{location}: not a native qwen3 checkpoint and transformers is not installed") from error
    revision = ref.get("revision")
    module = transformers.AutoModelForCausalLM.from_pretrained(location, revision=revision, torch_dtype=dtype)
    module.to(device)
    module.eval()
    inner_tokenizer = transformers.AutoTokenizer.from_pretrained(location, revision=revision)
    config = module.config.to_dict()
    from .tokenizer import HfTokenizer

    eos = config.get("eos_token_id")
    directory = Path(location)
    if directory.exists():
        shards = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
        digest = hashlib.sha256()
        for shard in shards:
            digest.update(sha256_file(shard).encode())
        model_hash = digest.hexdigest()
        tok_hash = tokenizer_hash(directory)
    else:
        model_hash = hashlib.sha256(f"{location}@{revision or 'main'}".encode()).hexdigest()
        tok_hash = model_hash
    return LoadedModel(
        kind="transformers",
        location=location,
        module=module,
        tokenizer=HfTokenizer(inner_tokenizer, [eos] if isinstance(eos, int) else list(eos or [])),
        config=config,
        device=device,
        dtype=dtype,
        model_hash=model_hash,
        tokenizer_hash=tok_hash,
        chat_template=getattr(inner_tokenizer, "chat_template", None),
    )


def save_checkpoint(
    model: LoadedModel,
    directory: str,
    optimizer_state: dict[str, torch.Tensor] | None,
    optimizer_meta: dict[str, str] | None,
    state: dict[str, torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Write the model in HF format to ``directory`` atomically: a sibling temp folder, then rename."""
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir()
    try:
        if model.kind == "native":
            state = state if state is not None else export_state(model.module)
            source_dtype = model.extra.get("saveDtype")
            if source_dtype is not None:
                state = {name: tensor.to(source_dtype) for name, tensor in state.items()}
            safetensors_io.save_file(state, temporary / "model.safetensors", {"format": "pt"})
            (temporary / "config.json").write_text(json.dumps(model.config, indent=2) + "\n", encoding="utf-8")
            source = model.extra.get("sourceDirectory")
            if source:
                for name in TOKENIZER_FILES:
                    if (Path(source) / name).exists():
                        shutil.copyfile(Path(source) / name, temporary / name)
        else:
            model.module.save_pretrained(str(temporary), safe_serialization=True)
            model.tokenizer.inner.save_pretrained(str(temporary))  # type: ignore[attr-defined]
        if optimizer_state is not None:
            safetensors_io.save_file(optimizer_state, temporary / "optimizer.safetensors", optimizer_meta or {})
        weights = temporary / "model.safetensors"
        if not weights.exists():
            shards = sorted(temporary.glob("*.safetensors"))
            weights = shards[0]
        sha = sha256_file(weights)
        size = sum(p.stat().st_size for p in temporary.iterdir() if p.name.endswith(".safetensors") and not p.name.startswith("optimizer"))
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            target.rename(old)
            temporary.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            temporary.rename(target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return {"path": str(target), "sha256": sha, "bytes": size}
