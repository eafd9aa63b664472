"""Sharding: split corpus encoding and reranking into parts that run as separate jobs.

Encoding. A corpus is encoded batch by batch following one *batch plan* computed from the
whole corpus: texts sorted by length (longest first, ties in corpus order), cut into batches of
``batch_size``. Shard ``i`` of ``n`` encodes a contiguous run of those batches. Every batch holds
the same texts whatever the number of shards, so every embedding is computed from the same
padded batch and the merged matrix is byte-identical to the unsharded one (on CPU). Sorting by
length keeps padding low, as sentence-transformers does within one ``encode`` call.

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


def batch_plan(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Row indices of each encoding batch from the texts' lengths: longest first (stable),
    ``batch_size`` each."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


PART_KEYS = ("rows", "embeddings")


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
