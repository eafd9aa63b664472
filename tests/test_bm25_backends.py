"""BM25 backends: bm25s (ATIRE tf, Robertson idf) ranks like rank-bm25's BM25Okapi(epsilon=0)."""

from __future__ import annotations

import numpy as np
import pytest

from shopbench import bm25
from shopbench.trec import top_k


def _corpus(n_docs: int = 3000, n_queries: int = 300, seed: int = 0):
    """Zipf-distributed pseudo-word documents (20-200 tokens) and 1-4 word queries."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(2000)])
    p = 1.0 / (np.arange(len(vocab)) + 3.0)
    p /= p.sum()
    docs = [" ".join(rng.choice(vocab, size=int(n), p=p))
            for n in rng.integers(20, 201, size=n_docs)]
    queries = [" ".join(rng.choice(vocab, size=int(n), p=p))
               for n in rng.integers(1, 5, size=n_queries)]
    docids = np.array([f"P{i:05d}" for i in rng.permutation(n_docs)], dtype=object)
    return docs, docids, queries


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


def test_bm25s_scores_match_rank_bm25(corpus):
    docs, _, queries = corpus
    ref = bm25.BM25Scorer(docs, backend="rank_bm25", epsilon=0.0)
    fast = bm25.BM25Scorer(docs, backend="bm25s")
    for query in queries[:50]:
        np.testing.assert_allclose(fast.scores(query), ref.scores(query), rtol=1e-5,
                                   atol=1e-5)


def test_bm25s_top10_agrees_for_99_percent_of_queries(corpus):
    docs, docids, queries = corpus
    ref = bm25.BM25Scorer(docs, backend="rank_bm25", epsilon=0.0)
    fast = bm25.BM25Scorer(docs, backend="bm25s")
    ref_ranked, _, _ = bm25.search(ref, docids, queries, 10)
    fast_ranked, _, _ = bm25.search(fast, docids, queries, 10)
    agree = np.mean([a == b for a, b in zip(ref_ranked, fast_ranked)])
    assert agree >= 0.99, f"top-10 agrees for {agree:.1%} of queries"


def test_bm25s_candidates_and_unknown_words(corpus):
    docs, docids, _ = corpus
    fast = bm25.BM25Scorer(docs, backend="bm25s")
    ref = bm25.BM25Scorer(docs, backend="rank_bm25", epsilon=0.0)
    assert not fast.scores("zzzunknown").any()
    assert not fast.scores("").any()
    cands = [np.arange(0, 3000, 7), np.arange(5, 50)]
    queries = ["w1 w17 w300", "w2 zzzunknown"]
    got, _, _ = bm25.search(fast, docids, queries, 5, cands)
    want, _, _ = bm25.search(ref, docids, queries, 5, cands)
    assert got == want
    assert all(set(r) <= set(docids[c]) for r, c in zip(got, cands))


def test_unknown_backend_is_rejected(corpus):
    with pytest.raises(ValueError, match="backend"):
        bm25.BM25Scorer(corpus[0][:10], backend="lucene")


@pytest.mark.parametrize("n", [7, 100, 5000])
def test_top_k_partial_sort_matches_full_sort(n):
    rng = np.random.default_rng(n)
    scores = rng.integers(0, 20, size=n).astype(np.float32)  # many ties
    docids = np.array([f"D{i:05d}" for i in rng.permutation(n)], dtype=object)
    for k in (1, 10, 100, n):
        order, top = top_k(scores, docids, k)
        full = np.lexsort((docids, -scores.astype(np.float64)))[:k]
        np.testing.assert_array_equal(order, full)
        np.testing.assert_array_equal(top, scores[full])
