"""rank-bm25's ``BM25Okapi`` (the notebook's BM25): the index is the fitted object's state
(per-product term counts, idf, lengths) saved as JSON, so loading it evaluates no code.

Scoring a query loops over every product in Python, so this backend suits the per-seed corpora
of the notebook's protocols; use bm25s for catalogues.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import bm25


class Scorer:
    def __init__(self, okapi, n_docs: int, empty_docs: list[int]):
        self.okapi, self.n_docs, self.empty_docs = okapi, n_docs, empty_docs

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        if not tokens:
            return np.zeros(self.n_docs, dtype=np.float64)
        return np.asarray(self.okapi.get_scores(tokens), dtype=np.float64)


def scorer(batches, analyzer, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25):
    """The scorer of the texts in ``batches`` (lists of product texts, in corpus order)."""
    from rank_bm25 import BM25Okapi

    docs = [analyzer(text) for batch in batches for text in batch]
    empty = [i for i, toks in enumerate(docs) if not toks]
    return Scorer(BM25Okapi(docs, k1=k1, b=b, epsilon=epsilon), len(docs), empty)


STATE = ("corpus_size", "avgdl", "doc_freqs", "idf", "doc_len", "k1", "b", "epsilon")


def save(scorer: Scorer, folder: Path) -> None:
    folder.mkdir(parents=True)
    state = {key: getattr(scorer.okapi, key) for key in STATE}
    state["empty_docs"] = scorer.empty_docs
    (folder / "okapi.json").write_text(json.dumps(state), encoding="utf-8")


def open_scorer(folder: Path) -> Scorer:
    from rank_bm25 import BM25Okapi

    state = json.loads((folder / "okapi.json").read_text(encoding="utf-8"))
    okapi = BM25Okapi.__new__(BM25Okapi)  # the fitted state as saved (floats round-trip exactly)
    for key in STATE:
        setattr(okapi, key, state[key])
    return Scorer(okapi, okapi.corpus_size, state["empty_docs"])


def build(fields, out: str, **settings) -> None:
    bm25.build_index(scorer, save, fields, out, **settings)


def load(path: str, docids, **settings):
    return bm25.load_index(open_scorer, path, docids, **settings)
