"""FAISS HNSW graph (``IndexHNSWFlat``, inner product): approximate, for large catalogues.

Built with ``hnsw_m`` and ``ef_construction``; ``ef_search`` (the candidate list at query
time) is a search setting, so changing it rebuilds nothing. HNSW returns the exact inner
products of the candidates it finds, ranked as in faiss_flat. Its level draws are seeded:
builds of the same embeddings gave byte-identical indexes (faiss-cpu 1.15, 2 threads).
"""

from __future__ import annotations

from . import faiss_flat


def new_index(dim: int, hnsw_m: int = 32, ef_construction: int = 200, **settings):
    import faiss

    index = faiss.IndexHNSWFlat(dim, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = int(ef_construction)
    return index


def build(embeddings_file: str, out: str, **settings) -> None:
    faiss_flat.build(embeddings_file, out, new=new_index, **settings)


def load(path: str, docids, ef_search: int | None = None, **settings):
    import faiss

    index = faiss.read_index(path)
    if ef_search:
        faiss.downcast_index(index).hnsw.efSearch = int(ef_search)
    return faiss_flat.DenseIndex(index, docids)
