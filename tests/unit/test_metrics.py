"""Metrics from ir-measures equal an independent implementation on real runs (1e-9)."""

import numpy as np
import pandas as pd
import pytest

from reference_metrics import evaluate_query
from shopbench import bm25, data as D, metrics, text as T
from shopbench.errors import ShopbenchError
from shopbench.trec import run_frame

FIELDS = ["product_title", "product_brand", "product_bullet_point", "product_description"]


@pytest.fixture(scope="module")
def real_runs(esci_slice):
    """BM25 runs over the judged pool of 40 real queries, at two depths, plus qrels."""
    ex = D.read_examples(esci_slice / "shopping_queries_dataset_examples.parquet")
    prods = D.read_products(esci_slice / "shopping_queries_dataset_products.parquet")
    sample = D.sample_examples(D.filter_examples(ex, "us", ["E"]), 40, 10_000, 3)
    queries = D.queries_of(sample)
    judged = D.judgments_for(ex, queries["qid"], "us")
    corpus = T.build_corpus(T.corpus_keys("judged-pool", sample, judged), prods, FIELDS)
    scorer = bm25.BM25Scorer(corpus["text"].tolist())
    docids = corpus["docid"].to_numpy()
    runs = {}
    for depth in (5, 100):
        ranked, scores, _ = bm25.search(scorer, docids, queries["query"].tolist(), depth)
        runs[depth] = run_frame(queries["qid"].tolist(), ranked, scores, "bm25")
    return runs, D.qrels_frame(judged)


@pytest.mark.parametrize("depth", [5, 100])
@pytest.mark.parametrize("relevant_labels", [["E"], ["E", "S"]])
@pytest.mark.parametrize("gains", [{"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0},
                                   {"E": 3, "S": 2, "C": 1, "I": 0}])
def test_metrics_equal_independent_implementation(real_runs, depth, relevant_labels, gains):
    runs, qrels = real_runs
    run = runs[depth]
    got = metrics.per_query(run, qrels, (1, 5, 10), gains, relevant_labels).set_index("qid")
    judged = {q: dict(zip(g["docid"], g["grade"])) for q, g in qrels.groupby("qid")}
    ranked = {q: g.sort_values("rank")["docid"].tolist() for q, g in run.groupby("qid")}
    assert len(got) == len(judged)
    for qid, judgments in judged.items():
        expected = evaluate_query(ranked.get(qid, []), judgments, gains, relevant_labels)
        for name, value in expected.items():
            assert got.loc[qid, name] == pytest.approx(value, abs=1e-9), (qid, name)
    assert got["mrr"].std() > 0  # the comparison is not trivial


def test_run_order_not_score_decides_ties():
    """trec_eval would put docid 'b' before 'a' on equal scores; we keep the run's ranks."""
    run = run_frame([1], [["a", "b"]], [[1.0, 1.0]], "t")
    qrels = pd.DataFrame({"qid": [1], "iter": 0, "docid": ["a"], "grade": [3]})
    assert metrics.per_query(run, qrels).loc[0, "mrr"] == 1.0


def test_query_missing_from_run_scores_zero():
    run = run_frame([1], [["a"]], [[1.0]], "t")
    qrels = pd.DataFrame({"qid": [1, 2], "iter": 0, "docid": ["a", "b"], "grade": [3, 3]})
    table = metrics.per_query(run, qrels).set_index("qid")
    assert table.loc[2, "mrr"] == 0.0 and table.loc[1, "mrr"] == 1.0
    assert np.isnan(table.loc[2, "first_rel_rank"])


def test_integer_gains_scale_preserves_ratios():
    assert metrics.integer_gains({"E": 1.0, "S": 0.1, "C": 0.01, "I": 0}) == {3: 100, 2: 10,
                                                                            1: 1, 0: 0}


@pytest.mark.parametrize("labels", [["S"], ["E", "C"], ["E", "S", "C", "I"]])
def test_relevant_labels_must_be_a_top_slice(labels):
    with pytest.raises(ShopbenchError, match="relevant_labels"):
        metrics.relevance_threshold(labels)
