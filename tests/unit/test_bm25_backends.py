"""BM25 backends: bm25s (ATIRE tf, Robertson idf) ranks like rank-bm25's BM25Okapi(epsilon=0),
in memory and through the persisted indexes the workflow searches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbench import bm25, trec
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


# -- persisted indexes (steps.bm25_index, backends.get(...).load) ----------------------------
@pytest.fixture(scope="module")
def small_catalogue(tmp_path_factory):
    """A 400-product corpus file and 40 queries, with a persisted index per backend."""
    from shopbench import steps

    docs, docids, queries = _corpus(400, 40, seed=1)
    folder = tmp_path_factory.mktemp("bm25-catalogue")
    pd.DataFrame({"docid": docids, "title": docs, "text": docs}).to_parquet(
        folder / "corpus.parquet")
    trec.write_tsv(pd.DataFrame({"qid": np.arange(100, 140), "query": queries}),
                   folder / "queries.tsv")
    for backend in ("rank_bm25", "bm25s"):
        steps.bm25_index(corpus=str(folder / "corpus.parquet"), index_out=str(folder / backend),
                         backend=backend, analyzer="notebook", k1=1.5, b=0.75)
    return folder, docs, docids, queries


@pytest.mark.parametrize("backend, epsilon", [("rank_bm25", 0.25), ("bm25s", 0.0)])
def test_persisted_index_searches_like_the_in_memory_scorer(small_catalogue, backend, epsilon):
    """search, batch_search and score (candidates) of the loaded index equal BM25Scorer."""
    from shopbench import backends

    folder, docs, docids, queries = small_catalogue
    index = backends.get(backend).load(str(folder / backend), docids)
    ref = bm25.BM25Scorer(docs, backend=backend, epsilon=epsilon)
    want, want_scores, _ = bm25.search(ref, docids, queries, 10)
    tokens = [bm25.tokenize(q) for q in queries]
    for (pos, scores), one, w, ws in zip(index.batch_search(tokens, 10),
                                         map(lambda t: index.search(t, 10), tokens),
                                         want, want_scores):
        assert docids[pos].tolist() == docids[one[0]].tolist() == w
        np.testing.assert_allclose(scores, ws, rtol=1e-5)
    cands = np.arange(3, 400, 5)
    np.testing.assert_allclose(index.score(tokens[0], cands), ref.scores(queries[0])[cands],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend, epsilon", [("rank_bm25", 0.25), ("bm25s", 0.0)])
def test_bm25_step_ranks_only_each_querys_candidates(small_catalogue, tmp_path, backend,
                                                     epsilon):
    """task1-rerank: each query ranks its own candidates (a query without any gets none), as
    the in-memory scorer ranks them."""
    from shopbench import steps

    folder, docs, docids, queries = small_catalogue
    rng = np.random.default_rng(2)
    cands = {qid: rng.choice(docids, 30, replace=False) for qid in range(100, 139)}
    trec.write_tsv(pd.DataFrame([(q, d) for q, ds in cands.items() for d in ds],
                                columns=["qid", "docid"]), tmp_path / "candidates.tsv")
    steps.bm25(index=str(folder / backend), corpus=str(folder / "corpus.parquet"),
               queries=str(folder / "queries.tsv"), run_out=str(tmp_path / "run.tsv"),
               latency_out=str(tmp_path / "lat.tsv"), analysis_out=str(tmp_path / "a.json"),
               approach="bm25", k=10, backend=backend,
               candidates=str(tmp_path / "candidates.tsv"))
    run = trec.read_run(tmp_path / "run.tsv")
    got = run.groupby("qid")["docid"].apply(list).to_dict()
    assert 139 not in got and all(set(got[q]) <= set(cands[q]) for q in got)
    ref = bm25.BM25Scorer(docs, backend=backend, epsilon=epsilon)
    position = {d: i for i, d in enumerate(docids)}
    positions = [np.array(sorted(position[d] for d in cands.get(q, ())), dtype=np.int64)
                 for q in range(100, 140)]
    want, _, _ = bm25.search(ref, docids, queries, 10, positions)
    assert [got.get(q, []) for q in range(100, 140)] == want
    assert sum(map(len, want)) > 100  # the comparison is not trivial


def test_stale_bm25_index_is_rejected(small_catalogue):
    from shopbench import backends
    from shopbench.errors import ShopbenchError

    folder, _, docids, _ = small_catalogue
    with pytest.raises(ShopbenchError, match=r"bm25s indexes 400 products, the corpus holds "
                                             r"399; delete the index and rerun"):
        backends.get("bm25s").load(str(folder / "bm25s"), docids[:399])
