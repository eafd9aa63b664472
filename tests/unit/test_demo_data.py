"""Tests for the synthetic demo catalogue generator (data/make_demo.py) and data/demo/."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "data" / "make_demo.py"
COMMITTED = REPO_ROOT / "data" / "demo"
EXAMPLES = "shopping_queries_dataset_examples.parquet"
PRODUCTS = "shopping_queries_dataset_products.parquet"

EXAMPLE_COLUMNS = {
    "example_id": "int64",
    "query": "str",
    "query_id": "int64",
    "product_id": "str",
    "product_locale": "str",
    "esci_label": "str",
    "small_version": "int64",
    "large_version": "int64",
    "split": "str",
}
PRODUCT_COLUMNS = {
    name: "str"
    for name in (
        "product_id",
        "product_title",
        "product_description",
        "product_bullet_point",
        "product_brand",
        "product_color",
        "product_locale",
    )
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate(out: Path) -> Path:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two independent generator runs."""
    return (
        generate(tmp_path_factory.mktemp("demo_a")),
        generate(tmp_path_factory.mktemp("demo_b")),
    )


@pytest.fixture(scope="module")
def tables(runs) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = runs[0]
    return pd.read_parquet(out / EXAMPLES), pd.read_parquet(out / PRODUCTS)


@pytest.mark.parametrize("name", [EXAMPLES, PRODUCTS])
def test_runs_are_byte_identical(runs, name):
    first, second = runs
    assert sha256(first / name) == sha256(second / name)


@pytest.mark.parametrize("name", [EXAMPLES, PRODUCTS])
def test_committed_files_match_fresh_generation(runs, name):
    assert (COMMITTED / name).is_file(), f"data/demo/{name} missing; run data/make_demo.py"
    assert sha256(COMMITTED / name) == sha256(runs[0] / name)


def test_files_are_small(runs):
    assert sum((runs[0] / name).stat().st_size for name in (EXAMPLES, PRODUCTS)) < 2_000_000


@pytest.mark.parametrize(
    "name, columns", [(EXAMPLES, EXAMPLE_COLUMNS), (PRODUCTS, PRODUCT_COLUMNS)]
)
def test_schema(runs, name, columns):
    df = pd.read_parquet(runs[0] / name)
    assert list(df.columns) == list(columns)
    assert {c: str(t) for c, t in df.dtypes.items()} == columns
    # No pandas index column is stored in the file.
    assert pq.read_schema(runs[0] / name).names == list(columns)


def test_examples_content(tables):
    examples, _ = tables
    assert set(examples["esci_label"]) == {"E", "S", "C", "I"}
    assert set(examples["product_locale"]) == {"us"}
    assert set(examples["split"]) == {"train", "test"}
    assert set(examples["small_version"]) <= {0, 1}
    assert set(examples["large_version"]) <= {0, 1}
    assert examples["example_id"].is_unique
    assert not examples.duplicated(["query_id", "product_id"]).any()
    assert not examples.isna().any().any()
    # One text per query id and vice versa.
    assert examples.groupby("query_id")["query"].nunique().eq(1).all()
    assert examples.groupby("query")["query_id"].nunique().eq(1).all()
    assert 80 <= examples["query_id"].nunique() <= 120
    assert 1_500 <= len(examples) <= 2_500


def test_every_query_has_exact_matches(tables):
    examples, _ = tables
    exact = examples[examples["esci_label"] == "E"].groupby("query_id").size()
    assert exact.reindex(examples["query_id"].unique(), fill_value=0).min() >= 3


def test_label_shares_resemble_esci(tables):
    shares = tables[0]["esci_label"].value_counts(normalize=True)
    assert 0.40 <= shares["E"] <= 0.60
    assert 0.15 <= shares["S"] <= 0.35
    assert 0.02 <= shares["C"] <= 0.10
    assert 0.10 <= shares["I"] <= 0.30


def test_products_content(tables):
    examples, products = tables
    assert products["product_id"].is_unique
    assert products["product_id"].str.fullmatch(r"B0[A-Z0-9]{8}").all()
    assert set(products["product_locale"]) == {"us"}
    assert products["product_title"].notna().all()
    assert products["product_title"].str.len().gt(0).all()
    for column in ("product_description", "product_bullet_point", "product_brand", "product_color"):
        assert products[column].isna().any(), f"{column} should sometimes be null"
        assert products[column].notna().any()
    assert 1_500 <= len(products) <= 2_500


def test_judged_products_present_and_distractors_exist(tables):
    examples, products = tables
    judged = set(examples["product_id"])
    catalogue = set(products["product_id"])
    assert judged <= catalogue
    assert 150 <= len(catalogue - judged) <= 250
