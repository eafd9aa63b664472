"""Sampling, qrels and product text reproduce the notebook's own pandas/numpy calls."""

import numpy as np
import pandas as pd
import pytest

from shopbench import data as D
from shopbench import text as T


def notebook_sample(examples, seed=42, n_queries=50, n_rows=500):
    """Cell 2 of the notebook, verbatim in behaviour (global numpy seed)."""
    filtered = examples[(examples["product_locale"] == "us") & (examples["esci_label"] == "E")].copy()
    np.random.seed(seed)
    query_ids = filtered["query_id"].unique()
    sampled_qids = np.random.choice(query_ids, size=n_queries, replace=False)
    subset = filtered[filtered["query_id"].isin(sampled_qids)]
    return subset.sample(n=min(n_rows, len(subset)), random_state=seed)


def notebook_text(sample, products):
    """Cell 3 of the notebook."""
    keys = sample[["product_id", "product_locale"]].drop_duplicates()
    prod = keys.merge(products[["product_id", "product_locale", "product_title", "product_brand",
                                "product_bullet_point", "product_description"]],
                      on=["product_id", "product_locale"], how="left")
    cols = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    prod["product_text"] = prod[cols].fillna("").agg(" ".join, axis=1)
    prod["product_text"] = prod["product_text"].str.replace(r"\s+", " ", regex=True).str.strip()
    return prod[prod["product_text"].str.len() > 0]


@pytest.mark.parametrize("seed", [42, 7])
def test_sample_equals_notebook_on_real_slice(esci_slice, seed):
    examples = D.read_examples(esci_slice / "shopping_queries_dataset_examples.parquet")
    expected = notebook_sample(examples, seed=seed)
    filtered = D.filter_examples(examples, "us", ["E"])
    got = D.sample_examples(filtered, 50, 500, seed)
    pd.testing.assert_frame_equal(got, expected)
    assert got.index.tolist() == expected.index.tolist()


def test_sampling_leaves_global_numpy_state_alone(esci_slice):
    examples = D.read_examples(esci_slice / "shopping_queries_dataset_examples.parquet")
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    D.sample_examples(D.filter_examples(examples, "us", ["E"]), 10, 50, 42)
    assert np.array_equal(np.random.get_state()[1], before)


def test_product_text_equals_notebook_on_real_slice(esci_slice):
    examples = D.read_examples(esci_slice / "shopping_queries_dataset_examples.parquet")
    products = D.read_products(esci_slice / "shopping_queries_dataset_products.parquet")
    sample = notebook_sample(examples)
    expected = notebook_text(sample, products)
    fields = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    corpus = T.build_corpus(T.corpus_keys("seed", sample, sample), products, fields)
    assert corpus["docid"].tolist() == expected["product_id"].tolist()
    assert corpus["text"].tolist() == expected["product_text"].tolist()


def _examples():
    rows = [  # query_id, query, product_id, label
        (1, "red shoes", "A", "E"), (1, "red shoes", "B", "S"), (1, "red shoes", "C", "I"),
        (2, "blue mug", "D", "E"), (2, "blue mug", "E", "C"), (2, "blue mug", "A", "I"),
        (3, "tent", "F", "E"), (3, "tent", "G", "E"),
    ]
    df = pd.DataFrame(rows, columns=["query_id", "query", "product_id", "esci_label"])
    df["product_locale"] = "us"
    return df


def test_qrels_grades_and_order():
    qrels = D.qrels_frame(_examples())
    assert qrels.columns.tolist() == ["qid", "iter", "docid", "grade"]
    assert list(zip(qrels["qid"], qrels["docid"], qrels["grade"])) == [
        (1, "A", 3), (1, "B", 2), (1, "C", 0), (2, "A", 0), (2, "D", 3), (2, "E", 1),
        (3, "F", 3), (3, "G", 3)]


def test_filter_keeps_locale_and_labels_in_file_order():
    ex = _examples()
    ex.loc[7, "product_locale"] = "es"
    got = D.filter_examples(ex, "us", ["E", "S"])
    assert got.index.tolist() == [0, 1, 3, 6]
