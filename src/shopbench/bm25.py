"""BM25 over an analyzer's tokens; backends rank-bm25 (the notebook's) and bm25s.

The analyzer (shopbench.analyzers) is a plain function text -> tokens, applied to products and
queries alike; the default is the notebook's tokenizer. A product field weighting sums the
per-field BM25 scores, each field with its own statistics (:class:`FieldedBM25`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from .analyzers import notebook as tokenize  # noqa: F401  (the notebook's tokenizer)
from .trec import top_k


class BM25Scorer:
    """Score every document of a corpus for a query; ``backend`` rank_bm25 or bm25s.

    ``analyzer`` turns a product text or a query into tokens (default: the notebook's).
    ``empty_docs`` lists the positions of documents the analyzer left without a token.
    """

    def __init__(self, texts: Iterable[str], k1: float = 1.5, b: float = 0.75,
                 backend: str = "rank_bm25", epsilon: float = 0.25,
                 analyzer: Callable[[str], list[str]] = tokenize):
        self.backend = backend
        self.analyzer = analyzer
        self.empty_docs: list[int] = []

        def tokens_of(i: int, text: str) -> list[str]:
            toks = analyzer(text)
            if not toks:
                self.empty_docs.append(i)
            return toks

        if backend == "rank_bm25":
            from rank_bm25 import BM25Okapi

            docs = [tokens_of(i, t) for i, t in enumerate(texts)]
            self.n_docs = len(docs)
            self._bm25 = BM25Okapi(docs, k1=k1, b=b, epsilon=epsilon)
        elif backend == "bm25s":
            import bm25s

            self._bm25 = bm25s.BM25(k1=k1, b=b, method="atire", idf_method="robertson")
            # Word ids straight away: the lists share the vocabulary's int objects, so a 1M
            # catalogue takes ~8 bytes per token instead of a string object per token.
            vocab: dict[str, int] = {}
            ids = [[vocab.setdefault(tok, len(vocab)) for tok in tokens_of(i, t)]
                   for i, t in enumerate(texts)]
            self.n_docs = len(ids)
            self._vocab = vocab
            self._bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab),
                             show_progress=False)
        else:
            raise ValueError(f"unknown BM25 backend {backend!r}")

    def scores(self, query: str) -> np.ndarray:
        return self.scores_tokens(self.analyzer(query))

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        if self.backend == "rank_bm25":
            if not tokens:
                return np.zeros(self.n_docs, dtype=np.float64)
            return np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        known = [self._vocab[t] for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float64)
        return np.asarray(self._bm25.get_scores_from_ids(known), dtype=np.float64)


class FieldedBM25:
    """Weighted sum of per-field BM25 scores: sum over fields of weight * BM25_field(query).

    Each field is its own BM25 index (its own idf and length normalisation), as Elasticsearch's
    ``multi_match`` of type ``most_fields`` with per-field boosts. The query is analyzed once.
    """

    def __init__(self, fields: dict[str, tuple[Iterable[str], float]], **kwargs):
        self.weights = {name: float(w) for name, (_, w) in fields.items()}
        self.scorers = {name: BM25Scorer(texts, **kwargs) for name, (texts, _) in fields.items()}
        first = next(iter(self.scorers.values()))
        self.analyzer = first.analyzer
        self.n_docs = first.n_docs
        empty = set.intersection(*(set(s.empty_docs) for s in self.scorers.values()))
        self.empty_docs = sorted(empty)

    def scores(self, query: str) -> np.ndarray:
        return self.scores_tokens(self.analyzer(query))

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        total = np.zeros(self.n_docs, dtype=np.float64)
        for name, scorer in self.scorers.items():
            if self.weights[name]:
                total += self.weights[name] * scorer.scores_tokens(tokens)
        return total


def search(scorer, docids: np.ndarray, queries: list[str], k: int,
           candidates: list[np.ndarray] | None = None, pad_zero_scores: bool = False,
           ties: str = "docid"):
    """Top-``k`` (docids, scores) per query, and per-query latency in seconds.

    Only products that match (score > 0) are returned, so a query without a match gets an
    empty ranking. ``pad_zero_scores`` keeps the notebook's behaviour instead: the top ``k``
    whatever their score, zeros included. Equal scores are ordered by docid, or with
    ``ties="notebook"`` as the notebook's ``scores.argsort()[::-1]`` over the corpus order
    (over a query's candidates, in corpus order, with candidates).
    """
    ranked, scores, latency = [], [], []
    for i, query in enumerate(queries):
        start = time.perf_counter()
        sc = scorer.scores(query)
        if candidates is not None:
            idx = candidates[i]
            order, top = top_k(sc[idx], docids[idx], k, ties)
            order = idx[order]
        else:
            order, top = top_k(sc, docids, k, ties)
        if not pad_zero_scores:
            keep = top > 0
            order, top = order[keep], top[keep]
        latency.append(time.perf_counter() - start)
        ranked.append(docids[order].tolist())
        scores.append(top)
    return ranked, scores, latency
