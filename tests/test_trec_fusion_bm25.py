"""Run files, deterministic tie-breaking, RRF against the notebook, BM25 against rank-bm25."""

import re

import numpy as np
import pandas as pd
from rank_bm25 import BM25Okapi

from shopbench import bm25, fusion, trec


def test_top_k_breaks_ties_by_docid():
    scores = np.array([1.0, 2.0, 2.0, 0.5, 2.0])
    docids = np.array(["e", "c", "a", "d", "b"])
    order, top = trec.top_k(scores, docids, 4)
    assert docids[order].tolist() == ["a", "b", "c", "e"]
    assert top.tolist() == [2.0, 2.0, 2.0, 1.0]


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


def test_rrf_depth_cuts_each_run():
    r1 = pd.DataFrame({"qid": 1, "docid": ["a", "b", "c"], "rank": [1, 2, 3]})
    r2 = pd.DataFrame({"qid": 1, "docid": ["c", "d", "e"], "rank": [1, 2, 3]})
    _, ranked, _ = fusion.rrf([r1, r2], k=60, depth=2)
    assert sorted(ranked[0]) == ["a", "b", "c", "d"]


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
