"""Sampling, qrels and product text reproduce the notebook's own pandas/numpy calls."""

import numpy as np
import pandas as pd
import pytest

from shopbench import data as D
from shopbench import text as T

from notebook_reference import notebook_sample, notebook_text


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
