"""Sharding: split corpus encoding and reranking into parts that run as separate jobs.

Encoding. A corpus is encoded batch by batch following one *batch plan* computed from the
whole corpus: texts sorted by length (longest first, ties in corpus order), cut into batches of
``batch_size``. Shard ``i`` of ``n`` encodes a contiguous run of those batches. Every batch holds
the same texts whatever the number of shards, so every embedding is computed from the same
padded batch and the merged matrix is byte-identical to the unsharded one (on CPU). Sorting by
length keeps padding low, as sentence-transformers does within one ``encode`` call.

Queries. The encode step also embeds the queries (one at a time, as at serving time), so that
dense search needs no model. Shard ``i`` of ``n`` embeds contiguous part ``i`` of the queries
(in queries-file order); each query's vector does not depend on the others, so the merged
matrix is the unsharded one.

Reranking. Each query is reranked on its own, so query shards (contiguous ranges of the sorted
query ids) merge, by concatenation, into the unsharded run file.

No torch here: the encoder is passed in.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence

import numpy as np

from .errors import ShopbenchError
from .files import atomic_path

log = logging.getLogger("shopbench")


def shard_bounds(n_items: int, shard: int, shards: int) -> tuple[int, int]:
    """``[start, stop)`` of contiguous part ``shard`` (0-based) of ``shards`` over ``n_items``.

    Part sizes differ by at most one; parts are empty when ``shards > n_items``.
    """
    if shards < 1 or not 0 <= shard < shards:
        raise ShopbenchError(f"shard {shard} of {shards} does not exist (shards: N >= 1, "
                             f"shard 0..N-1)")
    return n_items * shard // shards, n_items * (shard + 1) // shards


def batch_plan(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Row indices of each encoding batch: longest texts first (stable), ``batch_size`` each."""
    order = np.argsort(np.array([-len(t) for t in texts], dtype=np.int64), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def encode_part(encode_batch, texts: Sequence[str], batch_size: int, shard: int = 0,
                shards: int = 1, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Rows and embeddings of shard ``shard`` of ``shards`` of the batch plan.

    ``encode_batch(list_of_texts) -> 2-D float32 array`` encodes one batch in one forward pass.
    ``progress(n)``, when given, is called with the number of texts after each batch.
    """
    plan = batch_plan(texts, batch_size)
    start, stop = shard_bounds(len(plan), shard, shards)
    batches = plan[start:stop]
    if not batches:
        log.warning("shard %d of %d is empty: %d batches for %d shards", shard, shards,
                    len(plan), shards)
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    log.info("shard %d of %d: batches %d-%d of %d", shard, shards, start, stop - 1, len(plan))
    emb = []
    for rows in batches:
        emb.append(encode_batch([texts[i] for i in rows]))
        if progress is not None:
            progress(len(rows))
    return np.concatenate(batches), np.concatenate(emb).astype(np.float32, copy=False)


def assemble(parts: Sequence[tuple[np.ndarray, np.ndarray]], what: str = "embedding") -> np.ndarray:
    """The row-ordered array from (rows, values) parts that together cover every row."""
    parts = [(rows, values) for rows, values in parts if len(rows)]
    if not parts:
        raise ShopbenchError(f"no {what}s to merge: every shard is empty")
    rows = np.concatenate([r for r, _ in parts])
    n = len(rows)
    if not np.array_equal(np.sort(rows), np.arange(n)):
        raise ShopbenchError(f"{what} shards do not cover rows 0..{n - 1} exactly once; "
                             f"delete the shard files and rerun")
    first = parts[0][1]
    out = np.empty((n,) + first.shape[1:], dtype=first.dtype)
    for r, values in parts:
        out[r] = values
    return out


PART_KEYS = ("rows", "embeddings", "query_rows", "query_embeddings", "query_seconds")


def save_part(path: str, **arrays: np.ndarray) -> None:
    """One encode shard's arrays (``PART_KEYS``) in one .npz file."""
    if sorted(arrays) != sorted(PART_KEYS):
        raise ValueError(f"a part holds exactly {PART_KEYS}, not {sorted(arrays)}")
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.savez(out, **arrays)


def load_part(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as part:
        return {key: part[key] for key in PART_KEYS}


def concat_files(files: Sequence[str], out: str, header: bool = False) -> None:
    """Concatenate text files in order (keeping the first header line only if ``header``)."""
    first_header = None
    with atomic_path(out) as tmp, open(tmp, "wb") as dst:
        for path in files:
            with open(path, "rb") as src:
                if header:
                    line = src.readline()
                    if first_header is None:
                        first_header = line
                        dst.write(line)
                    elif line != first_header:
                        raise ShopbenchError(f"{path}: header {line!r} differs from "
                                             f"{first_header!r}")
                shutil.copyfileobj(src, dst)
