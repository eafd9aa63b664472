"""BM25 with the notebook's tokenizer; backends rank-bm25 (the notebook's) and bm25s."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

import numpy as np

from .trec import top_k

_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """The notebook's tokenizer: ``[a-z0-9]+`` runs of the lowercased text."""
    return _TOKEN.findall(text.lower())


class BM25Scorer:
    """Score every document of a corpus for a query; ``backend`` rank_bm25 or bm25s."""

    def __init__(self, texts: Iterable[str], k1: float = 1.5, b: float = 0.75,
                 backend: str = "rank_bm25", epsilon: float = 0.25):
        self.backend = backend
        if backend == "rank_bm25":
            from rank_bm25 import BM25Okapi

            self._bm25 = BM25Okapi([tokenize(t) for t in texts], k1=k1, b=b, epsilon=epsilon)
        elif backend == "bm25s":
            import bm25s

            self._bm25 = bm25s.BM25(k1=k1, b=b, method="atire", idf_method="robertson")
            # Word ids straight away: the lists share the vocabulary's int objects, so a 1M
            # catalogue takes ~8 bytes per token instead of a string object per token.
            vocab: dict[str, int] = {}
            ids = [[vocab.setdefault(tok, len(vocab)) for tok in tokenize(t)] for t in texts]
            self._vocab = vocab
            self._bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab),
                             show_progress=False)
        else:
            raise ValueError(f"unknown BM25 backend {backend!r}")

    def scores(self, query: str) -> np.ndarray:
        tokens = tokenize(query)
        if self.backend == "rank_bm25":
            return np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        known = [self._vocab[t] for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float64)
        return np.asarray(self._bm25.get_scores_from_ids(known), dtype=np.float64)


def search(scorer: BM25Scorer, docids: np.ndarray, queries: list[str], k: int,
           candidates: list[np.ndarray] | None = None):
    """Top-``k`` (docids, scores) per query, and per-query latency in seconds."""
    ranked, scores, latency = [], [], []
    for i, query in enumerate(queries):
        start = time.perf_counter()
        sc = scorer.scores(query)
        if candidates is not None:
            idx = candidates[i]
            order, top = top_k(sc[idx], docids[idx], k)
            order = idx[order]
        else:
            order, top = top_k(sc, docids, k)
        latency.append(time.perf_counter() - start)
        ranked.append(docids[order].tolist())
        scores.append(top)
    return ranked, scores, latency
