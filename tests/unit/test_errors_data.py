"""Bad data files are stopped with a message that names the problem and the fix, and the failed
step (``steps.sample`` or ``steps.corpus``, per-seed and catalogue protocols) leaves none of its
outputs behind.

The files are small hand-made ESCI-shaped tables written to tmp_path.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopbench import steps
from shopbench.errors import ShopbenchError

FIELDS = ["product_title", "product_brand", "product_bullet_point", "product_description"]


def examples_frame() -> pd.DataFrame:
    """Three us queries (six judgments) and one es query."""
    return pd.DataFrame({
        "example_id": [1, 2, 3, 4, 5, 6, 7],
        "query": ["red shoe", "red shoe", "red shoe", "blue hat", "blue hat", "green cup",
                  "zapato"],
        "query_id": [1, 1, 1, 2, 2, 3, 4],
        "product_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7"],
        "product_locale": ["us"] * 6 + ["es"],
        "esci_label": ["E", "S", "I", "E", "C", "E", "E"],
    })


def products_frame() -> pd.DataFrame:
    ids = ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    return pd.DataFrame({
        "product_id": ids,
        "product_title": [f"title {i}" for i in ids],
        "product_description": [f"description {i}" for i in ids],
        "product_bullet_point": [None] * 7,
        "product_brand": ["brand"] * 7,
        "product_color": ["red"] * 7,
        "product_locale": ["us"] * 6 + ["es"],
    })


class Step:
    """One step's output paths in a folder of their own, to check that none survives."""

    def __init__(self, folder: Path, names: list[str]):
        self.folder = folder
        self.paths = [str(folder / name) for name in names]

    def assert_nothing_written(self) -> None:
        left = [p.name for p in self.folder.rglob("*")] if self.folder.exists() else []
        assert left == [], f"the failed step left {left}"


SAMPLE_DEFAULTS = dict(seed=42, locale="us", labels=["E", "S", "C", "I"], n_queries=2,
                       n_rows=10, on_too_few_queries="error", protocol="judged-pool")


def sample_outputs(step: Step) -> dict[str, str]:
    """The sample step's outputs by name (``step.paths``: qrels, queries, sample)."""
    return dict(zip(["qrels_out", "queries_out", "sample_out"], step.paths))


def run_sample(tmp_path: Path, examples: Path, **params) -> Step:
    step = Step(tmp_path / "out", ["qrels.tsv", "queries.tsv", "sample.parquet"])
    steps.sample(examples=str(examples), **sample_outputs(step), **{**SAMPLE_DEFAULTS, **params})
    return step


def sample_fails(tmp_path: Path, examples: Path, match: str, **params) -> None:
    with pytest.raises(ShopbenchError, match=match):
        run_sample(tmp_path, examples, **params)
    Step(tmp_path / "out", []).assert_nothing_written()


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    df.to_parquet(path, index=False)
    return path


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


# -- examples: files ----------------------------------------------------------------------------
def test_valid_files_pass(tmp_path):
    step = run_sample(tmp_path, write_parquet(examples_frame(), tmp_path / "ex.parquet"))
    assert all(Path(p).is_file() for p in step.paths)
    assert sorted(p.name for p in step.folder.iterdir()) == ["qrels.tsv", "queries.tsv",
                                                             "sample.parquet"]


def test_valid_csv_passes(tmp_path):
    step = run_sample(tmp_path, write_csv(examples_frame(), tmp_path / "ex.csv"))
    assert len(pd.read_parquet(step.paths[2])) > 0


def test_missing_file(tmp_path):
    sample_fails(tmp_path, tmp_path / "nope.parquet",
                 r"examples file not found: .*nope\.parquet\. Set data\.examples in the config "
                 r"to an existing file, or set data\.download: true")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "dir.parquet").mkdir()
    sample_fails(tmp_path, tmp_path / "dir.parquet", r"is not a readable file; check "
                                                     r"data\.examples")


def test_unknown_extension(tmp_path):
    path = tmp_path / "ex.json"
    examples_frame().to_json(path)
    sample_fails(tmp_path, path, r"examples file .*ex\.json must end in \.parquet, \.csv or \.tsv")


@pytest.mark.parametrize("keep", [0, 5, 0.5, 0.9])
def test_truncated_parquet(tmp_path, keep):
    full = write_parquet(examples_frame(), tmp_path / "full.parquet").read_bytes()
    cut = tmp_path / "ex.parquet"
    cut.write_bytes(full[: int(len(full) * keep) if isinstance(keep, float) else keep])
    sample_fails(tmp_path, cut, r"cannot read examples file .*ex\.parquet \(.*\)\. The file is "
                                r"truncated or not a valid parquet file; download it again\.")


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "ex.parquet"
    path.write_text("query_id,query\n1,a\n")
    sample_fails(tmp_path, path, r"truncated or not a valid parquet file")


def test_truncated_csv_mid_row(tmp_path):
    text = write_csv(examples_frame(), tmp_path / "full.csv").read_text()
    cut = tmp_path / "ex.csv"
    cut.write_text(text[: text.rindex(",us,")])  # row 6 loses its locale and label, 7 is gone
    sample_fails(tmp_path, cut, r"examples file .*ex\.csv: column product_locale is empty on 1 "
                                r"row\(s\), the first at data row 6; .*download it again")


def test_truncated_csv_inside_quotes(tmp_path):
    text = write_csv(examples_frame(), tmp_path / "full.csv").read_text()
    cut = tmp_path / "ex.csv"
    cut.write_text(text + '8,"an unfinished query, with a comma')
    sample_fails(tmp_path, cut, r"cannot read examples file .*ex\.csv \(ParserError: .*\)\. The "
                                r"file is truncated or not a valid csv file")


def test_empty_csv(tmp_path):
    path = tmp_path / "ex.csv"
    path.write_text("")
    sample_fails(tmp_path, path, r"cannot read examples file .*EmptyDataError")


# -- examples: content --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_missing_columns(tmp_path, fmt):
    df = examples_frame().drop(columns=["esci_label", "query"])
    path = (write_parquet if fmt == "parquet" else write_csv)(df, tmp_path / f"ex.{fmt}")
    sample_fails(tmp_path, path, r"examples file .* lacks required column\(s\) query, "
                                 r"esci_label; expected the esci-data schema")


@pytest.mark.parametrize("column, value, message", [
    ("query_id", ["x", "y", "z", "1", "2", "3", "4"],
     r"column query_id must hold integers, found 'x'"),
    ("query_id", [1.5, 1, 1, 2, 2, 3, 4], r"column query_id must hold integers, found 1\.5"),
    ("query", [1, 2, 3, 4, 5, 6, 7], r"column query must hold text, found dtype int64"),
    ("product_id", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], r"column product_id must hold text"),
    ("esci_label", ["E", "S", "X", "E", "C", "E", "E"],
     r"column esci_label holds \['X'\]; expected only E, S, C, I"),
])
def test_wrong_dtypes(tmp_path, column, value, message):
    df = examples_frame().assign(**{column: value})
    sample_fails(tmp_path, write_parquet(df, tmp_path / "ex.parquet"), message)


def test_empty_required_value(tmp_path):
    df = examples_frame().assign(esci_label=["E", None, "I", "E", "C", "E", "E"])
    sample_fails(tmp_path, write_parquet(df, tmp_path / "ex.parquet"),
                 r"column esci_label is empty on 1 row\(s\), the first at data row 2")


def test_latin1_csv(tmp_path):
    text = write_csv(examples_frame(), tmp_path / "full.csv").read_text()
    path = tmp_path / "ex.csv"
    path.write_bytes(text.replace("blue hat", "bl\u00e9 hat").encode("latin-1"))
    sample_fails(tmp_path, path, r"examples file .*ex\.csv is not valid UTF-8 text \(.* on line "
                                 r"5\); re-encode it as UTF-8")


def binary_query_table(queries: list[bytes], pandas_metadata: bool) -> pa.Table:
    """The examples as an arrow table whose query column is binary (as some exports write)."""
    table = pa.Table.from_pandas(examples_frame(), preserve_index=False)
    if not pandas_metadata:
        table = table.replace_schema_metadata(None)
    return table.set_column(1, "query", pa.array(queries, pa.binary()))


@pytest.mark.parametrize("pandas_metadata", [True, False])
def test_parquet_binary_column_with_invalid_utf8(tmp_path, pandas_metadata):
    queries = [q.encode() for q in examples_frame()["query"]]
    queries[6] = b"zapat\xf3"
    pq.write_table(binary_query_table(queries, pandas_metadata), tmp_path / "ex.parquet")
    sample_fails(tmp_path, tmp_path / "ex.parquet",
                 r"column query holds non-UTF-8 text \(.*\); re-encode it as UTF-8")


@pytest.mark.parametrize("pandas_metadata", [True, False])
def test_parquet_binary_column_with_valid_utf8_is_read_as_text(tmp_path, pandas_metadata):
    queries = [q.encode() for q in examples_frame()["query"]]
    pq.write_table(binary_query_table(queries, pandas_metadata), tmp_path / "ex.parquet")
    step = run_sample(tmp_path, tmp_path / "ex.parquet")
    queries = pd.read_csv(step.paths[1], sep="\t")
    assert set(queries["query"]) <= {"red shoe", "blue hat", "green cup"}


# -- examples: filtering and sampling -----------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "csv", "tsv"])
def test_header_only_examples_file(tmp_path, fmt):
    """A file with the columns but no row says so, not that no row passed the filter."""
    empty = examples_frame().iloc[:0]
    path = tmp_path / f"ex.{fmt}"
    if fmt == "parquet":
        write_parquet(empty, path)
    else:
        empty.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    sample_fails(tmp_path, path, rf"examples file \S*ex\.{fmt} has no rows, only its column "
                                 r"names; point data\.examples at a file with data rows")


def test_conflicting_duplicate_judgments_keep_the_highest_label_with_a_warning(tmp_path,
                                                                                caplog):
    df = examples_frame()
    twice = df.iloc[[0, 3]].assign(esci_label="I")  # P1 and P4 were E
    again = df.iloc[[1]]  # P2: S twice, no conflict
    path = write_parquet(pd.concat([df, twice, again], ignore_index=True),
                         tmp_path / "ex.parquet")
    with caplog.at_level(logging.WARNING, logger="shopbench"):
        step = run_sample(tmp_path, path, n_queries=3)
    assert ("2 (query, product) pair(s) of 6 judged pairs are judged more than once with "
            "different labels (query 1 / product P1: E and I; query 2 / product P4: E and "
            "I); each keeps its highest label (E > S > C > I); 1 more pair(s) repeat one "
            "label") in caplog.text
    qrels = pd.read_csv(step.paths[0], sep=" ", header=None,
                        names=["qid", "iter", "docid", "grade"])
    assert len(qrels) == 6 and qrels.duplicated(["qid", "docid"]).sum() == 0
    assert qrels.set_index("docid").loc[["P1", "P2", "P4"], "grade"].tolist() == [3, 2, 3]


def test_no_conflict_no_warning(tmp_path, caplog):
    path = write_parquet(examples_frame(), tmp_path / "ex.parquet")
    with caplog.at_level(logging.WARNING, logger="shopbench"):
        run_sample(tmp_path, path, n_queries=3)
    assert "judged more than once" not in caplog.text


def test_no_rows_left_after_filtering(tmp_path):
    sample_fails(tmp_path, write_parquet(examples_frame(), tmp_path / "ex.parquet"),
                 r"no rows left after filtering for locale 'es' and labels \['C'\]; check "
                 r"sampling\.locale and sampling\.labels", locale="es", labels=["C"])


@pytest.mark.parametrize("params, message", [
    ({"locale": "fr"}, r"sampling\.locale: unknown locale 'fr'"),
    ({"labels": []}, r"sampling\.labels: the label set is empty"),
    ({"n_queries": 0}, r"sampling\.n_queries and sampling\.n_rows must be positive"),
    ({"n_rows": -1}, r"sampling\.n_queries and sampling\.n_rows must be positive"),
])
def test_bad_sampling_values_reaching_the_step(tmp_path, params, message):
    sample_fails(tmp_path, write_parquet(examples_frame(), tmp_path / "ex.parquet"), message,
                 **params)


def test_too_few_queries_is_an_error_by_default(tmp_path):
    sample_fails(tmp_path, write_parquet(examples_frame(), tmp_path / "ex.parquet"),
                 r"sampling\.n_queries is 5 but only 3 queries pass the filter; lower n_queries "
                 r"or set sampling\.on_too_few_queries: clamp", n_queries=5)


@pytest.mark.parametrize("params, message", [
    ({"n_queries": 5}, r"sampling\.n_queries is 5 but only 3 queries pass the filter; lower "
                       r"n_queries or set sampling\.on_too_few_queries: clamp"),
    ({"n_queries": 0}, r"sampling\.n_queries must be positive or all"),
    ({"locale": "es", "labels": ["C"]}, r"no rows left after filtering for locale 'es'"),
])
def test_catalogue_sampling_errors_leave_nothing(tmp_path, params, message):
    sample_fails(tmp_path, write_parquet(examples_frame(), tmp_path / "ex.parquet"), message,
                 protocol="catalogue", **params)


def test_catalogue_sample_is_every_judgment_of_the_drawn_queries(tmp_path):
    step = run_sample(tmp_path, write_parquet(examples_frame(), tmp_path / "ex.parquet"),
                      protocol="catalogue", n_queries="all")
    assert sorted(pd.read_csv(step.paths[1], sep="\t")["qid"]) == [1, 2, 3]
    assert len(pd.read_parquet(step.paths[2])) == 6


def test_too_few_queries_clamps_with_a_warning(tmp_path, caplog):
    path = write_parquet(examples_frame(), tmp_path / "ex.parquet")
    with caplog.at_level(logging.WARNING, logger="shopbench"):
        step = run_sample(tmp_path, path, n_queries=5, on_too_few_queries="clamp")
    assert "sampling.n_queries is 5 but only 3 queries pass the filter; clamping to 3" \
        in caplog.text
    assert sorted(pd.read_csv(step.paths[1], sep="\t")["qid"]) == [1, 2, 3]


# -- products (the corpus step) -----------------------------------------------------------------
@pytest.fixture
def sampled(tmp_path) -> tuple[Path, Path]:
    """Examples file and a sample of all three us queries (every judged product us)."""
    examples = write_parquet(examples_frame(), tmp_path / "ex.parquet")
    step = Step(tmp_path / "sample", ["qrels.tsv", "queries.tsv", "sample.parquet"])
    steps.sample(examples=str(examples), **sample_outputs(step),
                 **{**SAMPLE_DEFAULTS, "n_queries": 3})
    return examples, Path(step.paths[2])


def run_corpus(tmp_path: Path, sampled, products: Path, protocol: str = "judged-pool") -> Step:
    """The corpus step as its rule calls it: the catalogue protocol reads the products only
    and writes no candidates."""
    examples, sample = sampled
    if protocol == "catalogue":
        step = Step(tmp_path / "out", ["corpus.parquet"])
        steps.corpus(products=str(products), corpus_out=step.paths[0], protocol=protocol,
                     fields=FIELDS, locale="us", seed=None)
        return step
    step = Step(tmp_path / "out", ["corpus.parquet", "candidates.tsv"])
    steps.corpus(products=str(products), examples=str(examples), sample=str(sample),
                 corpus_out=step.paths[0], candidates_out=step.paths[1], seed=42,
                 protocol=protocol, fields=FIELDS, locale="us", distractors=0)
    return step


def corpus_fails(tmp_path: Path, sampled, products: Path, match: str,
                 protocol: str = "judged-pool") -> None:
    with pytest.raises(ShopbenchError, match=match):
        run_corpus(tmp_path, sampled, products, protocol)
    Step(tmp_path / "out", []).assert_nothing_written()


def test_valid_products_pass(tmp_path, sampled):
    step = run_corpus(tmp_path, sampled, write_parquet(products_frame(),
                                                       tmp_path / "pr.parquet"))
    corpus = pd.read_parquet(step.paths[0])
    assert sorted(corpus["docid"]) == ["P1", "P2", "P3", "P4", "P5", "P6"]


def test_missing_products_file(tmp_path, sampled):
    corpus_fails(tmp_path, sampled, tmp_path / "pr.parquet",
                 r"products file not found: .*pr\.parquet\. Set data\.products")


def test_truncated_products_parquet(tmp_path, sampled):
    full = write_parquet(products_frame(), tmp_path / "full.parquet").read_bytes()
    (tmp_path / "pr.parquet").write_bytes(full[: len(full) // 2])
    corpus_fails(tmp_path, sampled, tmp_path / "pr.parquet",
                 r"cannot read products file .* truncated or not a valid parquet file")


def test_products_missing_columns(tmp_path, sampled):
    df = products_frame().drop(columns=["product_title", "product_brand"])
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"products file .* lacks required column\(s\) product_title, product_brand")


def test_titles_only_products_suggest_text_fields(tmp_path, sampled):
    df = products_frame()[["product_id", "product_title", "product_locale"]]
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"products file \S*pr\.parquet lacks the product text column\(s\) "
                 r"product_brand, product_bullet_point, product_description of the fields the "
                 r"corpus text is built from \(text\.fields: \[product_title, product_brand, "
                 r"product_bullet_point, product_description\]\); it has product_title\. Set "
                 r"text\.fields to the columns it has, e\.g\. text\.fields: \[product_title\]")


def test_header_only_products_file(tmp_path, sampled):
    corpus_fails(tmp_path, sampled, write_parquet(products_frame().iloc[:0],
                                                  tmp_path / "pr.parquet"),
                 r"products file \S*pr\.parquet has no rows, only its column names")


def test_products_wrong_dtype(tmp_path, sampled):
    df = products_frame().assign(product_title=range(7))
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"column product_title must hold text, found dtype int64")


def test_products_empty_id(tmp_path, sampled):
    df = products_frame().assign(product_locale=["us"] * 5 + [None, "es"])
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"column product_locale is empty on 1 row\(s\), the first at data row 6")


def test_duplicate_products(tmp_path, sampled):
    df = pd.concat([products_frame(), products_frame().iloc[[1, 3]]], ignore_index=True)
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"products file .* has 2 duplicate \(product_id, product_locale\) key\(s\), "
                 r"e\.g\. P2/us, P4/us; each product must appear once per locale")


def test_same_id_in_two_locales_is_not_a_duplicate(tmp_path, sampled):
    es_twin = products_frame().iloc[[0]].assign(product_locale="es")
    df = pd.concat([products_frame(), es_twin], ignore_index=True)
    step = run_corpus(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"))
    assert len(pd.read_parquet(step.paths[0])) == 6


def test_judged_products_missing(tmp_path, sampled):
    df = products_frame()
    df = df[~df["product_id"].isin(["P2", "P5"])]
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"2 judged product\(s\) are missing from the products file, e\.g\. P2, P5; "
                 r"use the products file that matches the examples")


def test_product_with_all_text_empty_is_dropped_with_a_warning(tmp_path, sampled, caplog):
    df = products_frame()
    empty = df["product_id"].isin(["P3", "P5"])
    df.loc[empty, FIELDS] = ["", None, "  ", None]
    with caplog.at_level(logging.WARNING, logger="shopbench"):
        step = run_corpus(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"))
    assert ("dropping 2 product(s) whose fields ['product_title', 'product_brand', "
            "'product_bullet_point', 'product_description'] are all empty: P3, P5") in caplog.text
    assert sorted(pd.read_parquet(step.paths[0])["docid"]) == ["P1", "P2", "P4", "P6"]


def test_every_product_text_empty_is_an_error(tmp_path, sampled):
    df = products_frame()
    df[FIELDS] = None
    corpus_fails(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                 r"every product has empty text in fields \[.*\]; check text\.fields")


def test_products_latin1_csv(tmp_path, sampled):
    text = write_csv(products_frame(), tmp_path / "full.csv").read_text()
    path = tmp_path / "pr.csv"
    path.write_bytes(text.replace("title P4", "t\u00eetle P4").encode("latin-1"))
    corpus_fails(tmp_path, sampled, path, r"products file .*pr\.csv is not valid UTF-8 text "
                                          r"\(.* on line 5\)")


def test_products_parquet_invalid_utf8(tmp_path, sampled):
    df = products_frame()
    titles = [t.encode() for t in df["product_title"]]
    titles[2] = b"caf\xe9 mug"
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.set_column(table.schema.get_field_index("product_title"), "product_title",
                             pa.array(titles, pa.binary()))
    pq.write_table(table, tmp_path / "pr.parquet")
    corpus_fails(tmp_path, sampled, tmp_path / "pr.parquet",
                 r"products file .*: column product_title holds non-UTF-8 text")


# -- products under the catalogue protocol (every product of the locale, streamed) -------------
def test_catalogue_corpus_is_every_locale_product(tmp_path, sampled):
    df = products_frame()
    df.loc[df["product_id"] == "P3", FIELDS] = ["", None, "  ", None]
    step = run_corpus(tmp_path, sampled, write_parquet(df, tmp_path / "pr.parquet"),
                      "catalogue")
    assert sorted(p.name for p in step.folder.iterdir()) == ["corpus.parquet"]
    assert pd.read_parquet(step.paths[0])["docid"].tolist() == ["P1", "P2", "P4", "P5", "P6"]


@pytest.mark.parametrize("change, message", [
    (lambda df: None, r"products file not found: .*pr\.parquet\. Set data\.products"),
    (lambda df: df.drop(columns=["product_title", "product_brand"]),
     r"products file .* lacks required column\(s\) product_title, product_brand"),
    (lambda df: pd.concat([df, df.iloc[[1, 3]]], ignore_index=True),
     r"products file .* has duplicate \(product_id, product_locale\) key\(s\), e\.g\. "
     r"P2/us; each product must appear once per locale"),
    (lambda df: df.assign(product_id=[None] + list(df["product_id"][1:])),
     r"products file .*: column product_id is empty on some 'us' rows; download it again"),
    (lambda df: df.assign(**{f: None for f in FIELDS}),
     r"no 'us' product with non-empty text in fields \[.*\] in .*pr\.parquet; check "
     r"sampling\.locale and text\.fields"),
], ids=["missing-file", "missing-columns", "duplicates", "empty-id", "all-text-empty"])
def test_catalogue_corpus_errors_leave_nothing(tmp_path, sampled, change, message):
    df = change(products_frame())
    if df is not None:
        write_parquet(df, tmp_path / "pr.parquet")
    corpus_fails(tmp_path, sampled, tmp_path / "pr.parquet", message, "catalogue")
