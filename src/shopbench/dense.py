"""Dense encoding: products and queries with a sentence-transformers bi-encoder.

Embeddings are L2-normalised float32, so inner product is cosine similarity; the FAISS indexes
that search them are backends (shopbench.backends.faiss_flat, faiss_hnsw).
"""

from __future__ import annotations

import time

import numpy as np



def encode(model, texts: list[str], prefix: str = "", batch_size: int = 32) -> np.ndarray:
    """Normalised float32 embeddings of ``prefix + text`` for every text."""
    inputs = [prefix + t for t in texts]
    emb = model.encode(inputs, batch_size=batch_size, normalize_embeddings=True,
                       show_progress_bar=False, convert_to_numpy=True)
    return np.ascontiguousarray(emb, dtype=np.float32)


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
