"""FAISS exact inner-product search (``IndexFlatIP``) over L2-normalised embeddings.

Ranking: score descending, docid ascending; FAISS is asked for a few more than ``k`` and the
depth grows (for that query alone) while a tie straddles the cut, so runs do not depend on
FAISS' own order of equal scores. A batch search equals one query at a time (tested).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShopbenchError
from ..files import atomic_path
from ..trec import top_k

CHUNK_ROWS = 65_536


def iter_npy_rows(path: str, chunk_rows: int = CHUNK_ROWS):
    """Row blocks of a 2-D ``.npy`` file, read from disk as float32, one block in memory."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(handle)
        if fortran or len(shape) != 2:
            raise ShopbenchError(f"{path}: expected a C-ordered 2-D matrix, found {shape}")
        n, dim = shape
        for start in range(0, n, chunk_rows):
            rows = min(chunk_rows, n - start)
            block = np.fromfile(handle, dtype=dtype, count=rows * dim).reshape(rows, dim)
            yield np.ascontiguousarray(block, dtype=np.float32)


def new_index(dim: int, **settings):
    import faiss

    return faiss.IndexFlatIP(dim)


def build(embeddings_file: str, out: str, new=new_index, **settings) -> None:
    """The index of an embeddings file, filled in chunks: memory = the index + one chunk."""
    import faiss

    index = None
    for block in iter_npy_rows(embeddings_file):
        if index is None:
            index = new(block.shape[1], **settings)
        index.add(block)
    if index is None:
        raise ShopbenchError(f"{embeddings_file} holds no embeddings")
    with atomic_path(out) as tmp:
        faiss.write_index(index, str(tmp))


class DenseIndex:
    """A FAISS index with the corpus docids (for the tie rule)."""

    def __init__(self, index, docids: np.ndarray):
        self.index, self.docids, self.n_docs = index, np.asarray(docids), index.ntotal
        if self.n_docs != len(self.docids):
            raise ShopbenchError(f"the index holds {self.n_docs} vectors for "
                                 f"{len(self.docids)} products; delete it and rerun")

    def _ranked(self, scores, idx, k):
        keep = idx >= 0
        scores, idx = scores[keep], idx[keep]
        order, top = top_k(scores, self.docids[idx], k)
        return idx[order], top

    @staticmethod
    def _complete(scores, k, depth, n) -> bool:
        """Whether ``depth`` results decide the top ``k`` (no tie straddles the cut)."""
        return depth >= n or len(scores) <= k or scores[-1] < scores[min(k, len(scores)) - 1]

    def search(self, query: np.ndarray, k: int):
        qvec = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        depth = min(self.n_docs, k + 8)
        while True:
            scores, idx = self.index.search(qvec, depth)
            scores, idx = scores[0][idx[0] >= 0], idx[0][idx[0] >= 0]
            if self._complete(scores, k, depth, self.n_docs):
                return self._ranked(scores, idx, k)
            depth = min(self.n_docs, depth * 2)

    def batch_search(self, queries: np.ndarray, k: int, block: int = 1024):
        out = []
        depth = min(self.n_docs, k + 8)
        for start in range(0, len(queries), block):
            part = np.ascontiguousarray(queries[start:start + block], dtype=np.float32)
            scores, idx = self.index.search(part, depth)
            for j in range(len(part)):
                sc, ix = scores[j][idx[j] >= 0], idx[j][idx[j] >= 0]
                out.append(self._ranked(sc, ix, k) if self._complete(sc, k, depth, self.n_docs)
                           else self.search(part[j], k))
        return out

    def score(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Exact inner products with the stored vectors of ``positions``."""
        if not len(positions):
            return np.zeros(0, dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(positions, dtype=np.int64)) @ query


def load(path: str, docids: np.ndarray, **settings) -> DenseIndex:
    import faiss

    return DenseIndex(faiss.read_index(path), docids)
