"""Corpus and candidates of each protocol, on small hand-built data."""

import pandas as pd

from shopbench import text as T
from shopbench.data import judgments_for


def _products():
    ids = list("ABCDEFGHIJ")
    return pd.DataFrame({
        "product_id": ids,
        "product_locale": "us",
        "product_title": [f"title {i}" for i in ids],
        "product_brand": ["brand"] * 10,
        "product_bullet_point": [None, "  two\n lines "] + [None] * 8,
        "product_description": [None] * 10,
    })


def _examples():
    rows = [(1, "q1", "A", "E"), (1, "q1", "B", "S"), (1, "q1", "C", "I"),
            (2, "q2", "D", "E"), (2, "q2", "E", "C"), (3, "q3", "F", "E")]
    df = pd.DataFrame(rows, columns=["query_id", "query", "product_id", "esci_label"])
    df["product_locale"] = "us"
    return df


FIELDS = ["product_title", "product_brand", "product_bullet_point", "product_description"]


def test_product_text_joins_and_collapses_whitespace():
    text = T.product_text(_products(), FIELDS)
    assert text[0] == "title A brand"
    assert text[1] == "title B brand two lines"


def test_seed_protocol_corpus_is_sampled_products():
    ex = _examples()
    sample = ex[ex["esci_label"] == "E"]
    keys = T.corpus_keys("seed", sample, sample)
    assert keys["product_id"].tolist() == ["A", "D", "F"]


def test_judged_pool_corpus_is_every_judged_product_of_sampled_queries():
    ex = _examples()
    sample = ex[(ex["esci_label"] == "E") & ex["query_id"].isin([1, 2])]
    judged = judgments_for(ex, sample["query_id"].unique(), "us")
    keys = T.corpus_keys("judged-pool", sample, judged)
    assert keys["product_id"].tolist() == ["A", "B", "C", "D", "E"]


def test_distractors_are_unjudged_same_locale_and_seeded():
    keys = pd.DataFrame({"product_id": list("ABCDE"), "product_locale": "us"})
    prods = _products()
    first = T.draw_distractors(prods, keys, "us", 3, seed=1)
    again = T.draw_distractors(prods, keys, "us", 3, seed=1)
    assert first["product_id"].tolist() == again["product_id"].tolist()
    assert set(first["product_id"]) <= set("FGHIJ") and len(set(first["product_id"])) == 3


def test_task1_candidates_are_each_querys_own_judged_products():
    ex = _examples()
    judged = judgments_for(ex, [1, 2], "us")
    corpus = T.build_corpus(T.corpus_keys("task1-rerank", judged, judged), _products(), FIELDS)
    cands = T.candidates_frame("task1-rerank", judged, corpus)
    assert cands.groupby("qid")["docid"].apply(list).to_dict() == {1: ["A", "B", "C"],
                                                                 2: ["D", "E"]}
    assert T.candidates_frame("judged-pool", judged, corpus).empty
