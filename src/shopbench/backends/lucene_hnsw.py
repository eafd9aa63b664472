"""Lucene's HNSW graph (OpenSearch's k-NN ``lucene`` engine) over a model's embeddings.

Built by Anserini's ``IndexHnswDenseVectors`` (Lucene 9.9's ``Lucene99HnswVectorsFormat``, dot
product on the L2-normalised embeddings) with ``hnsw_m`` (M) and ``ef_construction``, from one
writer thread so that the graph is the same on every build (Lucene draws HNSW levels from a
fixed seed), merged into one segment. OpenSearch's defaults are M 16, ef_construction 100,
ef_search 100 (set them on the model; the schema's defaults are FAISS HNSW's).

The index file is an uncompressed tar of the Lucene index folder and the embeddings (float32),
unpacked to a temporary folder when searched. A query asks Lucene for max(ef_search, depth)
nearest neighbours (``KnnFloatVectorQuery``: that number is the graph search's candidate list,
as OpenSearch passes ef_search) and keeps the best ``depth``; their exact inner products with
the stored embeddings are then ranked as in faiss_flat (score, then docid), with the depth
growing while a tie straddles the cut. So HNSW decides which products are found, never their
scores, as with faiss_hnsw.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tarfile
import tempfile
import time
import logging
from pathlib import Path

import numpy as np

from .. import lucene
from ..errors import ShopbenchError
from ..files import atomic_path
from ..trec import top_k
from .faiss_flat import iter_npy_rows

log = logging.getLogger("shopbench")

USES_JVM = True
FIELD = "vector"


def build(embeddings_file: str, out: str, hnsw_m: int = 16, ef_construction: int = 100,
          threads: int = 1, mem_mb: int | None = None, **settings) -> None:
    lucene.configure(mem_mb)
    lucene.jvm()
    work = Path(tempfile.mkdtemp(prefix="lucene-hnsw-", dir=Path(out).parent))
    try:
        (work / "docs").mkdir()
        blocks, n = [], 0
        with open(work / "docs" / "vectors.jsonl", "w", encoding="utf-8") as handle:
            for block in iter_npy_rows(embeddings_file):
                for row in block:
                    handle.write(json.dumps({"docid": str(n), "vector": row.tolist()}) + "\n")
                    n += 1
                blocks.append(block)
        if not n:
            raise ShopbenchError(f"{embeddings_file} holds no embeddings")
        np.save(work / "embeddings.npy", np.concatenate(blocks))
        del blocks
        start = time.perf_counter()
        lucene.autoclass("io.anserini.index.IndexHnswDenseVectors").main([
            "-collection", "JsonDenseVectorCollection", "-input", str(work / "docs"),
            "-index", str(work / "lucene"), "-generator", "DenseVectorDocumentGenerator",
            "-threads", "1", "-M", str(int(hnsw_m)), "-efC", str(int(ef_construction)),
            "-optimize", "-quiet"])
        (work / "lucene" / "write.lock").unlink(missing_ok=True)
        log.info("lucene_hnsw index: %d vectors in %.1f s (M %d, efConstruction %d)", n,
                 time.perf_counter() - start, int(hnsw_m), int(ef_construction))
        (work / "shopbench.json").write_text(json.dumps(
            {"num_docs": n, "hnsw_m": int(hnsw_m), "ef_construction": int(ef_construction)}))
        with atomic_path(out) as tmp:
            with tarfile.open(tmp, "w") as tar:
                for name in ("shopbench.json", "embeddings.npy", "lucene"):
                    tar.add(work / name, arcname=name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Index:
    """A Lucene HNSW index with the corpus docids; exact scores from the embeddings."""

    def __init__(self, path: str, docids, ef_search: int = 100):
        A, jn = lucene.autoclass, lucene.jvm()
        self.folder = Path(tempfile.mkdtemp(prefix="lucene-hnsw-"))
        atexit.register(shutil.rmtree, self.folder, True)
        with tarfile.open(path) as tar:
            tar.extractall(self.folder, filter="data")
        self.embeddings = np.load(self.folder / "embeddings.npy", mmap_mode="r")
        self.docids, self.n_docs = np.asarray(docids), len(self.embeddings)
        if self.n_docs != len(self.docids):
            raise ShopbenchError(f"the index holds {self.n_docs} vectors for "
                                 f"{len(self.docids)} products; delete it and rerun")
        self.ef_search = int(ef_search or 100)
        directory = A("org.apache.lucene.store.FSDirectory").open(
            A("java.io.File")(str(self.folder / "lucene")).toPath())
        self.reader = A("org.apache.lucene.index.DirectoryReader").open(directory)
        self.searcher = A("org.apache.lucene.search.IndexSearcher")(
            jn.cast("org.apache.lucene.index.IndexReader", self.reader))
        self.stored = self.searcher.storedFields()
        self._knn = A("org.apache.lucene.search.KnnFloatVectorQuery")
        # Lucene's document number -> corpus position (the stored id)
        self.position = np.array([int(self.stored.document(d).get("id"))
                                  for d in range(int(self.reader.maxDoc()))], dtype=np.int64)

    def candidates(self, query: np.ndarray, depth: int) -> np.ndarray:
        """Corpus positions of the best ``depth`` of Lucene's approximate neighbours."""
        q = np.asarray(query, dtype=np.float32).ravel().tolist()
        n = max(self.ef_search, depth)
        hits = self.searcher.search(self._knn(FIELD, q, n), depth).scoreDocs
        return self.position[np.fromiter((h.doc for h in hits), dtype=np.int64,
                                         count=len(hits))]

    def score(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Exact inner products (float32) with the stored embeddings of ``positions``."""
        if not len(positions):
            return np.zeros(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32).ravel()
        return np.asarray(self.embeddings[np.asarray(positions, dtype=np.int64)]) @ query

    def search(self, query: np.ndarray, k: int):
        depth = min(self.n_docs, k + 8)
        while True:
            pos = self.candidates(query, depth)
            scores = self.score(query, pos)
            order, top = top_k(scores, self.docids[pos], min(k, len(pos)))
            ranked = np.sort(scores)[::-1]
            if depth >= self.n_docs or len(pos) <= k or ranked[-1] < ranked[k - 1]:
                return pos[order], top
            depth = min(self.n_docs, depth * 2)

    def batch_search(self, queries, k: int):
        return [self.search(q, k) for q in queries]


def load(path: str, docids, ef_search: int | None = None, threads: int = 1,
         mem_mb: int | None = None, **settings) -> Index:
    lucene.configure(mem_mb)
    return Index(path, docids, ef_search or 100)
