"""Dense retrieval: encode a corpus and the queries, build a FAISS inner-product index, search it.

Embeddings are L2-normalised float32, so inner product is cosine similarity. Search returns the
top ``k`` by score, ties broken by docid ascending (the FAISS depth grows until no tie straddles
the cut). The index is exact (``flat``) or an HNSW graph (``hnsw``, approximate); HNSW returns
the exact inner products of the candidates it finds, ranked the same way.
"""

from __future__ import annotations

import time

import numpy as np

from .trec import top_k


def encode(model, texts: list[str], prefix: str = "", batch_size: int = 32) -> np.ndarray:
    """Normalised float32 embeddings of ``prefix + text`` for every text."""
    inputs = [prefix + t for t in texts]
    emb = model.encode(inputs, batch_size=batch_size, normalize_embeddings=True,
                       show_progress_bar=False, convert_to_numpy=True)
    return np.ascontiguousarray(emb, dtype=np.float32)


INDEX_KINDS = ("flat", "hnsw")


def build_index(embeddings: np.ndarray, kind: str = "flat", hnsw_m: int = 32,
                ef_construction: int = 200):
    """An inner-product FAISS index of ``embeddings``: exact (flat) or HNSW (M, efConstruction).

    HNSW's level draws are seeded; builds of the same embeddings gave byte-identical indexes
    in our runs (faiss-cpu 1.15, 2 threads).
    """
    import faiss

    if kind not in INDEX_KINDS:
        raise ValueError(f"unknown index kind {kind!r}; use one of {INDEX_KINDS}")
    dim = embeddings.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(ef_construction)
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


def set_ef_search(index, ef_search: int | None) -> None:
    """Set HNSW's efSearch (candidate list size at query time); no-op for other indexes."""
    import faiss

    hnsw = faiss.downcast_index(index)
    if ef_search and hasattr(hnsw, "hnsw"):
        hnsw.hnsw.efSearch = int(ef_search)


def _search_one(index, qvec: np.ndarray, docids: np.ndarray, k: int):
    n = index.ntotal
    depth = min(n, k + 8)
    while True:
        scores, idx = index.search(qvec, depth)
        scores, idx = scores[0], idx[0]
        keep = idx >= 0
        scores, idx = scores[keep], idx[keep]
        if depth >= n or len(scores) <= k or scores[-1] < scores[min(k, len(scores)) - 1]:
            break
        depth = min(n, depth * 2)
    order, top = top_k(scores, docids[idx], k)
    return idx[order], top


def encode_queries(model, queries: list[str], prefix: str = "") -> tuple[np.ndarray, list[float]]:
    """Normalised float32 embeddings of ``prefix + query``, one query at a time as at serving
    time, and each query's encoding seconds (the first part of its latency)."""
    vecs, seconds = [], []
    for query in queries:
        start = time.perf_counter()
        vecs.append(encode(model, [query], prefix=prefix, batch_size=1)[0])
        seconds.append(time.perf_counter() - start)
    emb = np.stack(vecs) if vecs else np.zeros((0, 0), dtype=np.float32)
    return np.ascontiguousarray(emb, dtype=np.float32), seconds


def search(index, docids: np.ndarray, query_embeddings: np.ndarray, k: int,
           candidates: list[np.ndarray] | None = None, embeddings: np.ndarray | None = None,
           ef_search: int | None = None):
    """Top-``k`` (docids, scores) per query embedding, and per-query search seconds.

    With ``candidates`` (task1-rerank) each query is scored against its own candidates only,
    by exact inner product with ``embeddings``. ``ef_search`` applies to HNSW indexes.
    """
    if index is not None:
        set_ef_search(index, ef_search)
    ranked, scores, latency = [], [], []
    for i in range(len(query_embeddings)):
        start = time.perf_counter()
        qvec = query_embeddings[i:i + 1]
        if candidates is not None:
            idx = candidates[i]
            sc = embeddings[idx] @ qvec[0]
            order, top = top_k(sc, docids[idx], k)
            found = idx[order]
        else:
            found, top = _search_one(index, qvec, docids, k)
        latency.append(time.perf_counter() - start)
        ranked.append(docids[found].tolist())
        scores.append(top)
    return ranked, scores, latency
