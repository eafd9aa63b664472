"""Run files, deterministic tie-breaking, RRF against the notebook, BM25 against rank-bm25."""

import re

import numpy as np
import pandas as pd
import pytest
from rank_bm25 import BM25Okapi

from shopbench import bm25, fusion, trec
from shopbench.errors import ShopbenchError


def test_top_k_breaks_ties_by_docid():
    scores = np.array([1.0, 2.0, 2.0, 0.5, 2.0])
    docids = np.array(["e", "c", "a", "d", "b"])
    order, top = trec.top_k(scores, docids, 4)
    assert docids[order].tolist() == ["a", "b", "c", "e"]
    assert top.tolist() == [2.0, 2.0, 2.0, 1.0]


def test_top_k_notebook_ties_are_the_notebooks_argsort():
    # positions 0..6; docid order would put "a" (position 3) before "f" (position 1) and
    # "b" < "c" < "g" among the zeros
    scores = np.array([0.5, 2.0, 0.0, 2.0, 0.0, 0.0, 1.0])
    docids = np.array(["d", "f", "b", "a", "c", "g", "e"])
    order, top = trec.top_k(scores, docids, 6, ties="notebook")
    # by hand: ascending argsort keeps equal scores in position order (2, 4, 5 | 0 | 6 | 1, 3),
    # [::-1] reverses everything, so equal scores come last position first
    assert order.tolist() == [3, 1, 6, 0, 5, 4]
    assert order.tolist() == scores.argsort()[::-1][:6].tolist()  # the notebook's expression
    assert top.tolist() == [2.0, 2.0, 1.0, 0.5, 0.0, 0.0]
    assert docids[trec.top_k(scores, docids, 6)[0]].tolist() == ["a", "f", "e", "d", "b", "c"]


def test_top_k_notebook_ties_on_a_long_array():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, 5000).astype(np.float64)  # long runs of ties
    docids = np.array([f"p{i:05d}" for i in rng.permutation(5000)])
    order, top = trec.top_k(scores, docids, 100, ties="notebook")
    assert order.tolist() == scores.argsort()[::-1][:100].tolist()
    assert (top == 3.0).all()


def test_top_k_unknown_ties():
    with pytest.raises(ValueError, match="unknown ties 'stable'"):
        trec.top_k(np.array([1.0]), np.array(["a"]), 1, ties="stable")


def test_run_file_round_trip(tmp_path):
    run = trec.run_frame([7, 3], [["x", "y"], ["z"]], [[2.5, 1.0], [0.25]], "tag")
    trec.write_run(run, tmp_path / "run.tsv")
    lines = (tmp_path / "run.tsv").read_text().splitlines()
    assert lines[0] == "7 Q0 x 1 2.500000 tag"
    back = trec.read_run(tmp_path / "run.tsv")
    assert back[["qid", "docid", "rank"]].values.tolist() == [[3, "z", 1], [7, "x", 1],
                                                              [7, "y", 2]]


def notebook_rrf(lists, rrf_k=60):
    rrf = {}
    for ranked in lists:
        for rank, pid in enumerate(ranked):
            rrf[pid] = rrf.get(pid, 0.0) + 1.0 / (rrf_k + rank + 1)
    return sorted(rrf.items(), key=lambda kv: -kv[1])


def test_rrf_equals_notebook():
    rng = np.random.default_rng(0)
    docs = [f"d{i:03d}" for i in range(300)]
    a, b = list(rng.permutation(docs)[:100]), list(rng.permutation(docs)[:100])
    runs = [pd.DataFrame({"qid": 1, "docid": r, "rank": np.arange(1, 101)}) for r in (a, b)]
    _, ranked, scores = fusion.rrf(runs, k=60, depth=100)
    expected = notebook_rrf([a, b])
    assert dict(zip(ranked[0], scores[0])) == dict(expected)
    # same ranking, except that equal scores are ordered by docid
    assert [s for _, s in expected] == sorted(scores[0], reverse=True)
    assert ranked[0] == [d for d, _ in sorted(expected, key=lambda kv: (-kv[1], kv[0]))]


def test_rrf_notebook_ties_equal_notebook_exactly():
    rng = np.random.default_rng(0)
    docs = [f"d{i:03d}" for i in range(300)]
    a, b = list(rng.permutation(docs)[:100]), list(rng.permutation(docs)[:100])
    runs = [pd.DataFrame({"qid": 1, "docid": r, "rank": np.arange(1, 101)}) for r in (a, b)]
    _, ranked, scores, _ = fusion.fuse(runs, "rrf", 60, 100, ties="notebook")
    expected = notebook_rrf([a, b])
    assert ranked[0] == [d for d, _ in expected]
    assert scores[0].tolist() == [s for _, s in expected]


def test_rrf_notebook_ties_by_hand():
    # d3 and d2 score 1/61, d1 and d4 1/62; first appearance: d3, d1 (run 1), d2, d4 (run 2)
    r1 = pd.DataFrame({"qid": 1, "docid": ["d3", "d1"], "rank": [1, 2]})
    r2 = pd.DataFrame({"qid": 1, "docid": ["d2", "d4"], "rank": [1, 2]})
    _, ranked, scores, _ = fusion.fuse([r1, r2], "rrf", 60, 100, ties="notebook")
    assert ranked[0] == ["d3", "d2", "d1", "d4"]
    assert scores[0].tolist() == [1 / 61, 1 / 61, 1 / 62, 1 / 62]
    _, ranked, _, _ = fusion.fuse([r1, r2], "rrf", 60, 100)
    assert ranked[0] == ["d2", "d3", "d1", "d4"]
    # runs in the given order: swapping them changes the order among ties
    _, ranked, _, _ = fusion.fuse([r2, r1], "rrf", 60, 100, ties="notebook")
    assert ranked[0] == ["d2", "d3", "d4", "d1"]


@pytest.mark.parametrize("method, ties, says", [
    ("rrf", "first", "unknown ties 'first'"),
    ("combsum", "notebook", "method 'combsum' has none"),
    ("combmnz", "notebook", "method 'combmnz' has none"),
])
def test_fusion_bad_ties(method, ties, says):
    r1 = pd.DataFrame({"qid": 1, "docid": ["a"], "rank": [1], "score": [1.0]})
    with pytest.raises(ShopbenchError, match=says):
        fusion.fuse([r1, r1], method, ties=ties)


def test_rrf_depth_cuts_each_run():
    r1 = pd.DataFrame({"qid": 1, "docid": ["a", "b", "c"], "rank": [1, 2, 3]})
    r2 = pd.DataFrame({"qid": 1, "docid": ["c", "d", "e"], "rank": [1, 2, 3]})
    _, ranked, _ = fusion.rrf([r1, r2], k=60, depth=2)
    assert sorted(ranked[0]) == ["a", "b", "c", "d"]


def test_fusion_size_keeps_the_best_of_the_union():
    # union of two top-3 lists: 5 products; RRF by hand: c 1/63 + 1/61, a 1/61, then the
    # 1/62s (b, d by docid), then e 1/63
    r1 = pd.DataFrame({"qid": 1, "docid": ["a", "b", "c"], "rank": [1, 2, 3]})
    r2 = pd.DataFrame({"qid": 1, "docid": ["c", "d", "e"], "rank": [1, 2, 3]})
    _, union, union_scores, _ = fusion.fuse([r1, r2], "rrf", 60, 3)
    assert union[0] == ["c", "a", "b", "d", "e"]
    assert union_scores[0].tolist() == [1 / 63 + 1 / 61, 1 / 61, 1 / 62, 1 / 62, 1 / 63]
    _, cut, cut_scores, _ = fusion.fuse([r1, r2], "rrf", 60, 3, size=3)
    assert cut[0] == ["c", "a", "b"]
    assert cut_scores[0].tolist() == union_scores[0].tolist()[:3]
    # a size above the union's length keeps the union
    _, ranked, _, _ = fusion.fuse([r1, r2], "rrf", 60, 3, size=10)
    assert ranked[0] == union[0]
    with pytest.raises(ShopbenchError, match="fusion size 0: keep at least one product"):
        fusion.fuse([r1, r2], "rrf", 60, 3, size=0)


def test_tokenizer_is_notebooks():
    text = "Travel-Size FRAGRANCE spray, 0.5 fl.oz (Pack of 2)"
    assert bm25.tokenize(text) == re.findall(r"[a-z0-9]+", text.lower())


def test_bm25_scores_equal_rank_bm25():
    texts = ["red running shoes", "blue coffee mug", "running socks red", "tent for camping",
             "red red red"]
    scorer = bm25.BM25Scorer(texts, k1=1.2, b=0.6)
    ref = BM25Okapi([bm25.tokenize(t) for t in texts], k1=1.2, b=0.6)
    np.testing.assert_array_equal(scorer.scores("red shoes"), ref.get_scores(["red", "shoes"]))
    ranked, scores, latency = bm25.search(scorer, np.array(list("abcde")), ["red shoes"], 3)
    assert ranked[0][0] == "a" and len(latency) == 1


def test_bm25_notebook_ties_equal_the_notebooks_cell_10():
    texts = ["red running shoes", "blue coffee mug", "running socks red", "tent for camping",
             "red red red", "coffee beans", "mug rack", "red mug"]
    docids = np.array(["c", "h", "a", "f", "b", "g", "e", "d"])
    scorer = bm25.BM25Scorer(texts, k1=1.5, b=0.75)
    ref = BM25Okapi([re.findall(r"[a-z0-9]+", t.lower()) for t in texts], k1=1.5, b=0.75)
    queries = ["red mug", "ecloth", "coffee"]  # ties among matches; no match: all zeros
    ranked, scores, _ = bm25.search(scorer, docids, queries, 6, pad_zero_scores=True,
                                    ties="notebook")
    for q, got, got_scores in zip(queries, ranked, scores):
        sc = ref.get_scores(re.findall(r"[a-z0-9]+", q.lower()))
        idx = sc.argsort()[::-1][:6]  # the notebook's cell 10
        assert got == [docids[i] for i in idx]
        assert got_scores.tolist() == sc[idx].tolist()
    # by hand: no match, every score 0: the notebook's order is the corpus order reversed;
    # the default orders them by docid
    assert ranked[1] == ["d", "e", "g", "b", "f", "a"]
    padded, _, _ = bm25.search(scorer, docids, queries, 6, pad_zero_scores=True)
    assert padded[1] == ["a", "b", "c", "d", "e", "f"]
    # only matches without padding, in the same order
    matched, _, _ = bm25.search(scorer, docids, queries, 6, ties="notebook")
    assert matched[1] == [] and matched[0] == [d for d, s in zip(ranked[0], scores[0]) if s > 0]


def test_persisted_bm25_index_keeps_the_notebooks_ties(tmp_path):
    """The index the workflow searches (steps.bm25_index, rank_bm25, loaded with ties and
    pad_zero_scores) ranks as the notebook's cell 10, as the in-memory scorer does."""
    from shopbench import backends, steps

    texts = ["red running shoes", "blue coffee mug", "running socks red", "tent for camping",
             "red red red", "coffee beans", "mug rack", "red mug"]
    docids = np.array(["c", "h", "a", "f", "b", "g", "e", "d"])
    pd.DataFrame({"docid": docids, "title": texts, "text": texts}).to_parquet(
        tmp_path / "corpus.parquet")
    steps.bm25_index(corpus=str(tmp_path / "corpus.parquet"), index_out=str(tmp_path / "idx"),
                     backend="rank_bm25", analyzer="notebook", k1=1.5, b=0.75)
    index = backends.get("rank_bm25").load(str(tmp_path / "idx"), docids, ties="notebook",
                                           pad_zero_scores=True)
    ref = BM25Okapi([re.findall(r"[a-z0-9]+", t.lower()) for t in texts], k1=1.5, b=0.75)
    for q in ["red mug", "ecloth", "coffee"]:
        tokens = re.findall(r"[a-z0-9]+", q.lower())
        sc = ref.get_scores(tokens)
        idx = sc.argsort()[::-1][:6]  # the notebook's cell 10
        pos, scores = index.search(tokens, 6)
        assert pos.tolist() == idx.tolist()
        assert scores.tolist() == sc[idx].tolist()
    by_docid = backends.get("rank_bm25").load(str(tmp_path / "idx"), docids)
    assert by_docid.search(["ecloth"], 6)[0].tolist() == []  # only matches by default


def test_bm25_notebook_ties_over_candidates():
    texts = ["a b", "c d", "e f", "g h", "a c"]
    docids = np.array(["v", "w", "x", "y", "z"])
    scorer = bm25.BM25Scorer(texts)
    cands = [np.array([1, 2, 3])]
    ranked, _, _ = bm25.search(scorer, docids, ["zzz"], 3, cands, pad_zero_scores=True,
                               ties="notebook")
    assert ranked[0] == ["y", "x", "w"]  # candidates in corpus order, reversed by [::-1]
