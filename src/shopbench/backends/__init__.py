"""Retrieval backends behind one interface, found by name (``BACKENDS``).

A backend is one module with two functions:

* ``build(source, out, **settings)``: persist an index of a corpus at ``out`` (a file or a
  folder), streaming ``source`` so that memory stays bounded at catalogue scale. Dense
  backends index an embeddings ``.npy`` file; sparse (BM25) backends index ``{field: texts}``
  where each value yields batches of product texts (shopbench.steps.index.text_batches).
* ``load(path, docids, **settings) -> Index``.

An ``Index`` (see :class:`Index`) searches queries (a query vector for dense backends, the
analyzer's tokens for sparse ones) and returns corpus positions with their scores, ranked by
score descending with a deterministic tie rule: ``search`` for one query (timed for latency),
``batch_search`` for all of them (how every run is made), ``score`` for given candidates
(task1-rerank). Approach steps (shopbench.steps.search) only talk to this interface, so adding
a backend is one module here, its line in ``BACKENDS`` and its schema entry.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

#: Backend name (the config's ``models[].index`` or ``approaches[].backend``) -> module.
BACKENDS = {
    "flat": "faiss_flat",
    "hnsw": "faiss_hnsw",
    "rank_bm25": "rank_bm25",
    "bm25s": "bm25s",
    "lucene": "lucene",
    "lucene_hnsw": "lucene_hnsw",
    "maxsim": "maxsim",
}


class Index(Protocol):
    n_docs: int

    def search(self, query, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def batch_search(self, queries, k: int) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def score(self, query, positions: np.ndarray) -> np.ndarray: ...


def get(name: str):
    """The module of backend ``name``."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; use one of {sorted(BACKENDS)}")
    return importlib.import_module(f"{__name__}.{BACKENDS[name]}")
