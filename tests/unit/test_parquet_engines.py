"""ESCI files written by fastparquet (as an environment that saves them with
``pandas.to_parquet(engine="fastparquet")`` writes them) are read by shopbench, which reads
parquet with pyarrow, with the same results as the pyarrow-written files: the same checked
frames, and byte-identical samples, qrels, corpus and candidates.

docs/benchmarks.md ("Parquet engine") says why shopbench reads with pyarrow.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import fastparquet  # pinned in the test extra of pyproject.toml
import numpy as np
import pandas as pd
import pytest

from shopbench import data as D
from shopbench import steps

SLICE = Path(__file__).resolve().parents[2] / "data" / "esci-us-150q"
FIELDS = ["product_title", "product_brand", "product_bullet_point", "product_description"]


def with_split_and_version(examples: pd.DataFrame) -> pd.DataFrame:
    """The slice without its empty official columns filled in: every other query in the test
    split, every third in the small version (so the split and version filters have work)."""
    codes = examples["query_id"].rank(method="dense").astype("int64")
    return examples.assign(split=np.where(codes % 2 == 0, "test", "train"),
                           small_version=(codes % 3 == 0).astype("Int64"),
                           large_version=pd.array([1] * len(examples), dtype="Int64"),
                           example_id=pd.array(range(len(examples)), dtype="Int64"))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """{engine: {"examples": path, "products": path}}, from the same frames."""
    root = tmp_path_factory.mktemp("engines")
    frames = {
        "examples": with_split_and_version(
            pd.read_parquet(SLICE / "shopping_queries_dataset_examples.parquet")),
        "products": pd.read_parquet(SLICE / "shopping_queries_dataset_products.parquet"),
    }
    out: dict[str, dict[str, Path]] = {"pyarrow": {}, "fastparquet": {}}
    for what, frame in frames.items():
        out["pyarrow"][what] = root / f"{what}.pyarrow.parquet"
        frame.to_parquet(out["pyarrow"][what], engine="pyarrow", index=False)
        out["fastparquet"][what] = root / f"{what}.fastparquet.parquet"
        fastparquet.write(str(out["fastparquet"][what]), frame, write_index=False)
    import pyarrow.parquet as pq

    assert pq.read_metadata(out["fastparquet"]["products"]).created_by.startswith(
        "fastparquet-python")
    return out


def test_products_are_read_alike(files):
    a = D.read_products(files["pyarrow"]["products"], FIELDS)
    b = D.read_products(files["fastparquet"]["products"], FIELDS)
    pd.testing.assert_frame_equal(a, b)
    assert all(pd.api.types.is_string_dtype(b[c]) for c in D.PRODUCT_COLUMNS + FIELDS)


def test_examples_are_read_alike(files):
    a = D.read_examples(files["pyarrow"]["examples"])
    b = D.read_examples(files["fastparquet"]["examples"])
    pd.testing.assert_frame_equal(a[D.EXAMPLE_COLUMNS], b[D.EXAMPLE_COLUMNS])
    # The official optional columns: nullable Int64 through pyarrow, plain int64 through
    # fastparquet's file (float64 where a column is all null); the filters compare them as
    # numbers, so only the values matter.
    flags = ["split", "small_version", "large_version"]
    pd.testing.assert_frame_equal(a[flags], b[flags], check_dtype=False)


@pytest.mark.parametrize("protocol, split, version", [("judged-pool", "all", "all"),
                                                      ("seed", "all", "all"),
                                                      ("catalogue", "test", "small")])
def test_samples_qrels_and_corpus_are_byte_identical(files, tmp_path, protocol, split,
                                                     version):
    outputs = {}
    for engine, paths in files.items():
        folder = tmp_path / engine
        sample = [str(folder / n) for n in ("qrels.tsv", "queries.tsv", "sample.parquet")]
        steps.sample(str(paths["examples"]), *sample, seed=7, locale="us", labels=["E"],
                     n_queries=20, n_rows=200, on_too_few_queries="error",
                     protocol=protocol, split=split, version=version)
        outputs[engine] = folder
        if protocol == "catalogue":
            continue
        steps.corpus(str(paths["products"]), str(folder / "corpus.parquet"),
                     examples=str(paths["examples"]), sample=sample[2],
                     candidates_out=str(folder / "candidates.tsv"), seed=7,
                     protocol=protocol, fields=FIELDS, locale="us", distractors=50)
    a, b = outputs["pyarrow"], outputs["fastparquet"]
    names = ["qrels.tsv", "queries.tsv"]
    if protocol != "catalogue":
        names += ["corpus.parquet", "candidates.tsv"]
    for name in names:
        assert filecmp.cmp(a / name, b / name, shallow=False), name
    cols = D.EXAMPLE_COLUMNS
    pd.testing.assert_frame_equal(pd.read_parquet(a / "sample.parquet")[cols],
                                  pd.read_parquet(b / "sample.parquet")[cols])
    assert len(pd.read_csv(a / "queries.tsv", sep="\t")) == 20
