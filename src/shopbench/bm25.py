"""BM25 over an analyzer's tokens: the ranking rule, field weighting, and in-memory scorers.

The analyzer (shopbench.analyzers) is a plain function text -> tokens, applied to products and
queries alike; the default is the notebook's tokenizer. A scorer (one per backend module under
shopbench.backends: rank_bm25, bm25s) gives every product's score for a query's tokens; a
:class:`SparseIndex` sums per-field scorers with weights (each field its own statistics, as
Elasticsearch's ``multi_match`` of type ``most_fields`` with per-field boosts) and ranks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np

from .analyzers import notebook as tokenize  # noqa: F401  (the notebook's tokenizer)
from .trec import top_k

log = logging.getLogger("shopbench")


def rank(scores: np.ndarray, docids: np.ndarray, k: int, ties: str = "docid",
         pad_zero_scores: bool = False, positions: np.ndarray | None = None):
    """Positions and scores of the top ``k``. Only products that match (score > 0) are kept,
    so a query without a match gets an empty ranking; ``pad_zero_scores`` keeps the notebook's
    behaviour instead (the top ``k`` whatever their score). Equal scores are ordered by docid,
    or with ``ties="notebook"`` as the notebook's ``scores.argsort()[::-1]`` over the corpus
    order. ``positions`` (task1-rerank candidates, in corpus order): ``scores`` are theirs."""
    if positions is not None:
        order, top = top_k(scores, docids[positions], k, ties)
        order = positions[order]
    else:
        order, top = top_k(scores, docids, k, ties)
    if not pad_zero_scores:
        keep = top > 0
        order, top = order[keep], top[keep]
    return order, top


class SparseIndex:
    """The weighted sum of per-field scorers (``{field: (scorer, weight)}``), ranked by
    :func:`rank`: the backends' common Index (shopbench.backends) for token queries."""

    def __init__(self, fields: dict, docids: np.ndarray, ties: str = "docid",
                 pad_zero_scores: bool = False):
        self.fields = {name: (scorer, float(w)) for name, (scorer, w) in fields.items()}
        self.docids, self.ties, self.pad = np.asarray(docids), ties, pad_zero_scores
        scorers = [s for s, _ in self.fields.values()]
        self.n_docs = scorers[0].n_docs
        self.empty_docs = sorted(set.intersection(*(set(s.empty_docs) for s in scorers)))

    def scores(self, tokens: list[str]) -> np.ndarray:
        if len(self.fields) == 1:
            ((scorer, weight),) = self.fields.values()
            if weight == 1.0:
                return scorer.scores_tokens(tokens)
        total = np.zeros(self.n_docs, dtype=np.float64)
        for scorer, weight in self.fields.values():
            if weight:
                total += weight * scorer.scores_tokens(tokens)
        return total

    def search(self, tokens: list[str], k: int):
        return rank(self.scores(tokens), self.docids, k, self.ties, self.pad)

    def batch_search(self, queries: list[list[str]], k: int):
        return [self.search(tokens, k) for tokens in queries]

    def score(self, tokens: list[str], positions: np.ndarray) -> np.ndarray:
        return self.scores(tokens)[positions]


class BM25Scorer:
    """In memory: every product's BM25 score for a query, for one list of texts.

    ``backend`` rank_bm25 (``BM25Okapi``, the notebook's) or bm25s (ATIRE tf, Robertson idf);
    ``analyzer`` turns a product text or a query into tokens; ``empty_docs`` lists the
    positions of products the analyzer left without a token.
    """

    def __init__(self, texts: Iterable[str], k1: float = 1.5, b: float = 0.75,
                 backend: str = "rank_bm25", epsilon: float = 0.25,
                 analyzer: Callable[[str], list[str]] = tokenize):
        from . import backends

        self.backend, self.analyzer = backend, analyzer
        module = backends.get(backend)
        if not hasattr(module, "scorer"):
            raise ValueError(f"unknown BM25 backend {backend!r}")
        texts = list(texts)
        self._scorer = module.scorer([texts], analyzer, k1=k1, b=b, epsilon=epsilon)
        self.n_docs, self.empty_docs = self._scorer.n_docs, list(self._scorer.empty_docs)

    def scores(self, query: str) -> np.ndarray:
        return self.scores_tokens(self.analyzer(query))

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        return self._scorer.scores_tokens(tokens)


class FieldedBM25(SparseIndex):
    """Weighted per-field BM25 of ``{field: (texts, weight)}`` in memory (as BM25Scorer)."""

    def __init__(self, fields: dict[str, tuple[Iterable[str], float]], **kwargs):
        scorers = {name: (BM25Scorer(texts, **kwargs), w) for name, (texts, w) in fields.items()}
        first = next(iter(scorers.values()))[0]
        super().__init__(scorers, np.arange(first.n_docs))
        self.analyzer = first.analyzer

    def scores(self, query) -> np.ndarray:
        return super().scores(self.analyzer(query) if isinstance(query, str) else query)

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        return super().scores(tokens)


def search(scorer, docids: np.ndarray, queries: list[str], k: int,
           candidates: list[np.ndarray] | None = None, pad_zero_scores: bool = False,
           ties: str = "docid"):
    """Top-``k`` (docids, scores) per query text, and per-query latency in seconds (see
    :func:`rank`; with ``candidates`` each query ranks its own candidates only)."""
    ranked, scores, latency = [], [], []
    for i, query in enumerate(queries):
        start = time.perf_counter()
        sc = scorer.scores(query)
        positions = None if candidates is None else candidates[i]
        order, top = rank(sc if positions is None else sc[positions], docids, k, ties,
                          pad_zero_scores, positions)
        latency.append(time.perf_counter() - start)
        ranked.append(docids[order].tolist())
        scores.append(top)
    return ranked, scores, latency


# -- persisted indexes (shared by the sparse backends) -------------------------------------
def build_index(make_scorer, save, fields: dict, out: str, *, analyzer, k1: float,
                b: float) -> None:
    """One scorer per field (``{field: () -> batches of texts}``) saved under ``out/<field>``,
    with ``shopbench.json`` (products, settings, products left without a token); the folder
    appears whole or not at all."""
    import json
    import os
    import shutil
    from pathlib import Path

    from . import analyzers

    target = Path(out)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    analyze, empty, n_docs = analyzers.make(analyzer), None, 0
    try:
        for field, batches in fields.items():
            start = time.perf_counter()
            scorer = make_scorer(batches(), analyze, k1=k1, b=b)
            save(scorer, tmp / field)
            n_docs = scorer.n_docs
            empty = set(scorer.empty_docs) if empty is None else empty & set(scorer.empty_docs)
            log.info("bm25 index of %s: %d products in %.1f s", field, n_docs,
                     time.perf_counter() - start)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    empty = sorted(empty)
    (tmp / "shopbench.json").write_text(json.dumps({
        "num_docs": n_docs, "k1": k1, "b": b, "fields": list(fields),
        "analyzer": analyzers.describe(analyzer),
        "empty_products": {"count": len(empty), "positions": empty[:5]}}))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def index_info(path: str) -> dict:
    import json
    from pathlib import Path

    return json.loads((Path(path) / "shopbench.json").read_text())


def load_index(open_scorer, path: str, docids, *, weights: dict | None = None,
               ties: str = "docid", pad_zero_scores: bool = False, index_class=None,
               **settings) -> SparseIndex:
    """The saved index as a :class:`SparseIndex`; ``weights`` (``{field: weight}``) for a
    field-weighted index, else its one field with weight 1."""
    from pathlib import Path

    from .errors import ShopbenchError

    info = index_info(path)
    if info["num_docs"] != len(docids):
        raise ShopbenchError(f"{path} indexes {info['num_docs']} products, the corpus holds "
                             f"{len(docids)}; delete the index and rerun")
    weights = weights or {field: 1.0 for field in info["fields"]}
    fields = {f: (open_scorer(Path(path) / f), w) for f, w in weights.items()}
    return (index_class or SparseIndex)(fields, docids, ties, pad_zero_scores)
