"""Late interaction (ColBERT-style): one vector per token, scored by MaxSim.

The model is sentence-transformers' ``MultiVectorEncoder`` (sentence-transformers 6.2, already
pinned): it loads PyLate checkpoints (``[Q] ``/``[D] `` prefixes, punctuation skiplist) and
Stanford ColBERT checkpoints (``HF_ColBERT``, ``artifact.metadata``: ``[unused0]``/``[unused1]``
markers, document length, queries padded with ``[MASK]``) with their own settings. PyLate,
colbert-ai, RAGatouille and fast-plaid do not install or run beside shopbench's pins (see
docs/approaches.md#late-interaction), so storage and search are shopbench's own, here:

* token vectors of a corpus: one float16 matrix ``(tokens, dim)`` (every product's vectors in
  corpus order) and one int64 vector of each product's token count;
* exact MaxSim in numpy: for each query token the best inner product with a product's tokens,
  summed over the query tokens (the vectors are L2-normalised, so these are cosines);
* a candidate stage for large corpora (shopbench.backends.maxsim): a FAISS IVF index over the
  token vectors gives each query token its nearest product tokens; the products they belong to
  are then scored exactly.

Only the loader and the encoders import torch (when called).
"""

from __future__ import annotations

import json
import string
import time
from pathlib import Path

import numpy as np

from .errors import ShopbenchError

#: Checkpoint formats MultiVectorEncoder loads with their own markers, lengths and skiplists.
FORMATS = ("pylate", "stanford")
#: config_sentence_transformers.json keys only PyLate saves have.
PYLATE_KEYS = ("query_prefix", "document_prefix", "skiplist_words", "do_query_expansion")
#: Rows of token vectors turned into float32 at a time when scoring a whole corpus.
CHUNK_TOKENS = 262_144


def checkpoint_format(folder: str | Path) -> str | None:
    """``pylate`` (a PyLate save, or a sentence-transformers MultiVectorEncoder save),
    ``stanford`` (colbert-ir's ``HF_ColBERT`` layout) or None (neither)."""
    folder = Path(folder)
    st_config = folder / "config_sentence_transformers.json"
    if st_config.exists():
        try:
            cfg = json.loads(st_config.read_text(encoding="utf-8"))
        except ValueError:
            cfg = {}
        if cfg.get("model_type") in ("ColBERT", "MultiVectorEncoder") or any(
                key in cfg for key in PYLATE_KEYS):
            return "pylate"
    config = folder / "config.json"
    if config.exists():
        try:
            archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
        except ValueError:
            archs = []
        if "HF_ColBERT" in archs:
            return "stanford"
    return None


def check_checkpoint(resolved: str, name: str, stand_in: bool = False) -> str | None:
    """The format of a late-interaction folder; a clear error when it is neither format (a
    bi-encoder folder is accepted only as a declared stand-in). Hub ids pass (no folder)."""
    folder = Path(resolved)
    if not folder.is_dir():
        return None
    fmt = checkpoint_format(folder)
    if stand_in:
        if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
            raise ShopbenchError(f"model {name!r} ({resolved}): stand_in needs a "
                                 f"sentence-transformers or Hugging Face model folder")
        return "stand-in"
    if fmt is None:
        raise ShopbenchError(
            f"model {name!r} ({resolved}) is configured as kind: late-interaction but is neither "
            f"a PyLate / sentence-transformers MultiVectorEncoder checkpoint "
            f"(config_sentence_transformers.json with model_type ColBERT or MultiVectorEncoder, "
            f"or PyLate's query_prefix/document_prefix) nor a Stanford ColBERT checkpoint "
            f"(config.json architectures [HF_ColBERT], with linear.weight and artifact.metadata); "
            f"point path at such a folder (e.g. colbert-ir/colbertv2.0, "
            f"answerdotai/answerai-colbert-small-v1, lightonai/GTE-ModernColBERT-v1), or set "
            f"stand_in: true to use a bi-encoder's token vectors as an untrained stand-in")
    return fmt


def load_late_interaction(path: str, name: str = "", device: str = "cpu",
                          max_length: int | None = None, precision: str = "fp32",
                          stand_in: bool = False):
    """A MultiVectorEncoder with the checkpoint's own markers, lengths and skiplist.

    ``max_length`` None keeps the checkpoint's document length (e.g. 180 for colbertv2.0);
    a number replaces it. ``stand_in``: a bi-encoder's last hidden states, L2-normalised per
    token, punctuation skipped in documents, no projection and no markers: a stand-in for
    trying the pipeline where no late-interaction checkpoint is at hand, not a ColBERT model.
    """
    from . import models

    def build(resolved, dev):
        from sentence_transformers import MultiVectorEncoder

        if not stand_in:
            return MultiVectorEncoder(resolved, device=dev, local_files_only=models._offline())
        from sentence_transformers.base.modules import Normalize, Transformer
        from sentence_transformers.multi_vector_encoder.modules import MultiVectorMask

        transformer = Transformer(resolved, document_length=max_length)
        return MultiVectorEncoder(
            modules=[transformer, MultiVectorMask(skiplist_words=list(string.punctuation)),
                     Normalize(module_input_name="token_embeddings")],
            device=dev, prompts={"query": "", "document": ""})

    model, device = models._load(path, "late-interaction", name, device, build, precision,
                                 stand_in)
    if max_length:
        model[0].document_length = int(max_length)
    return models.apply_precision(model, precision, device)


def describe(model) -> str:
    """Markers, lengths and skiplist size of a loaded model, for the log."""
    first = model[0]
    expansion = getattr(first, "query_expansion", None) or {}
    skip = next((len(m.skiplist_words) for m in model if hasattr(m, "skiplist_words")), 0)
    return (f"prompts {model.prompts}, document length {getattr(first, 'document_length', None)}, "
            f"query expansion {expansion.get('length') if expansion else None}, "
            f"{skip} skiplist words, {model.get_embedding_dimension()} dimensions")


def encode_documents(model, texts: list[str], batch_size: int) -> list[np.ndarray]:
    """Each text's token vectors (float32, rows = its scored tokens)."""
    if not texts:
        return []
    out = model.encode_document(texts, batch_size=batch_size, convert_to_numpy=True,
                                show_progress_bar=False)
    return [np.asarray(o, dtype=np.float32) for o in out]


def encode_queries(model, queries: list[str]) -> tuple[list[np.ndarray], list[float]]:
    """Each query's token vectors (float32), one query at a time as at serving time, and each
    one's seconds."""
    vecs, seconds = [], []
    for query in queries:
        start = time.perf_counter()
        vec = model.encode_query([query], batch_size=1, convert_to_numpy=True,
                                 show_progress_bar=False)[0]
        seconds.append(time.perf_counter() - start)
        vecs.append(np.asarray(vec, dtype=np.float32))
    return vecs, seconds


def offsets_of(lengths: np.ndarray) -> np.ndarray:
    """Start of each product's tokens, plus the end (``len(lengths) + 1`` values)."""
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=out[1:])
    return out


def _segment_maxsim(query: np.ndarray, block: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """MaxSim of ``query`` against consecutive products whose tokens are ``block`` (their
    ``lengths`` in order); a product without tokens scores 0."""
    scores = np.zeros(len(lengths), dtype=np.float32)
    nonzero = lengths > 0
    if not len(block) or not nonzero.any():
        return scores
    sim = np.asarray(block, dtype=np.float32) @ query.T  # (tokens, query tokens)
    starts = offsets_of(lengths[nonzero])[:-1]
    scores[nonzero] = np.maximum.reduceat(sim, starts, axis=0).sum(axis=1, dtype=np.float32)
    return scores


def maxsim(query: np.ndarray, tokens: np.ndarray, offsets: np.ndarray,
           positions: np.ndarray | None = None, chunk_tokens: int = CHUNK_TOKENS) -> np.ndarray:
    """MaxSim of one query (``(query tokens, dim)``) against the products at ``positions``
    (all of them when None), whose token vectors are ``tokens[offsets[p]:offsets[p + 1]]``.
    Scores are float32, in the order of ``positions``."""
    query = np.ascontiguousarray(query, dtype=np.float32)
    n = len(offsets) - 1
    if positions is None:
        out = np.empty(n, dtype=np.float32)
        start = 0
        while start < n:
            stop = int(np.searchsorted(offsets, offsets[start] + chunk_tokens, side="right")) - 1
            stop = min(n, max(stop, start + 1))
            out[start:stop] = _segment_maxsim(query, tokens[offsets[start]:offsets[stop]],
                                              np.diff(offsets[start:stop + 1]))
            start = stop
        return out
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        return np.zeros(0, dtype=np.float32)
    starts, lengths = offsets[positions], offsets[positions + 1] - offsets[positions]
    rows = np.repeat(starts - offsets_of(lengths)[:-1], lengths) + np.arange(lengths.sum())
    return _segment_maxsim(query, tokens[rows], lengths)


def write_tokens(vectors: list[np.ndarray], tokens_out, lengths_out, dtype="float16") -> None:
    """The corpus token matrix and each product's token count (two .npy files, atomically)."""
    from .files import atomic_outputs

    dim = next((v.shape[1] for v in vectors if v.ndim == 2 and v.shape[1]), 0)
    lengths = np.array([len(v) for v in vectors], dtype=np.int64)
    with atomic_outputs(tokens_out, lengths_out) as (t_tmp, l_tmp):
        matrix = np.lib.format.open_memmap(t_tmp, mode="w+", dtype=dtype,
                                           shape=(int(lengths.sum()), dim))
        at = 0
        for vec in vectors:
            matrix[at:at + len(vec)] = vec
            at += len(vec)
        matrix.flush()
        del matrix
        with open(l_tmp, "wb") as handle:
            np.save(handle, lengths)


def read_tokens(tokens: str, lengths: str) -> tuple[np.ndarray, np.ndarray]:
    """Token matrix (memory-mapped) and offsets of a corpus; checked against each other."""
    matrix = np.load(tokens, mmap_mode="r")
    lens = np.load(lengths)
    if matrix.ndim != 2 or int(lens.sum()) != len(matrix):
        raise ShopbenchError(f"{tokens} holds {len(matrix)} token vectors but {lengths} counts "
                             f"{int(lens.sum())}; delete both and rerun")
    return matrix, offsets_of(lens)


def save_query_tokens(path, qids, vectors: list[np.ndarray]) -> None:
    """A seed's query token vectors (float32, concatenated), their counts and qids (.npz)."""
    dim = next((v.shape[1] for v in vectors if v.ndim == 2), 0)
    flat = (np.concatenate(vectors) if vectors else np.zeros((0, dim))).astype(np.float32)
    np.savez(path, qids=np.asarray(list(qids), dtype=np.int64), vectors=flat,
             lengths=np.array([len(v) for v in vectors], dtype=np.int64))


def load_query_tokens(path) -> tuple[np.ndarray, list[np.ndarray]]:
    """qids and each query's token vectors, as save_query_tokens wrote them."""
    with np.load(path) as data:
        qids, flat, lengths = data["qids"], data["vectors"], data["lengths"]
    offsets = offsets_of(lengths)
    return qids, [flat[offsets[i]:offsets[i + 1]] for i in range(len(lengths))]
