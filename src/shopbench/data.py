"""Read the official ESCI files, check them, filter, sample exactly as the notebook, build qrels.

Column names are those of amazon-science/esci-data. Sampling reproduces the notebook's calls:
``np.random.seed(seed)``; ``np.random.choice`` over the filtered query ids in ``unique()`` order,
no replacement; all filtered rows of those queries; ``DataFrame.sample(n=min(n_rows, len),
random_state=seed)``. A private ``RandomState(seed)`` gives the same draws without touching
numpy's global state.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ShopbenchError

log = logging.getLogger(__name__)

EXAMPLE_COLUMNS = ["query_id", "query", "product_id", "product_locale", "esci_label"]
PRODUCT_COLUMNS = ["product_id", "product_locale", "product_title"]
TEXT_FIELDS = [
    "product_title",
    "product_brand",
    "product_color",
    "product_bullet_point",
    "product_description",
]
LABELS = ("E", "S", "C", "I")
#: Integer relevance grade written to qrels for each ESCI label; gains are applied at evaluation.
GRADES = {"E": 3, "S": 2, "C": 1, "I": 0}
LOCALES = ("us", "es", "jp")
#: sampling.split values: the official ``split`` column's values, or ``all`` (no filter).
SPLITS = ("test", "train", "all")
#: sampling.version values: rows flagged ``small_version == 1`` (Task 1's reduced set) or
#: ``large_version == 1``, or ``all`` (no filter).
VERSIONS = {"small": "small_version", "large": "large_version", "all": None}


def _read_any(path: str | os.PathLike, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    path = Path(path)
    _check_path(path, what)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path, columns=columns)
        if suffix in (".csv", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            return pd.read_csv(path, sep=sep, usecols=columns, dtype=str,
                               keep_default_na=False, na_values=[""], encoding="utf-8",
                               encoding_errors="strict")
    except UnicodeDecodeError as exc:
        raise ShopbenchError(
            f"{what} file {path} is not valid UTF-8 text ({exc.reason}{_bad_utf8_line(path)}); "
            f"re-encode it as UTF-8, e.g. iconv -f latin1 -t utf-8."
        ) from exc
    except Exception as exc:  # pyarrow and pandas raise several types for truncated files
        column = _non_utf8_column(path) if "utf8" in str(exc).lower() else None
        if column:
            raise ShopbenchError(
                f"{what} file {path}: column {column} holds non-UTF-8 text ({exc}); re-encode "
                f"it as UTF-8."
            ) from exc
        missing = _missing_columns_hint(path, columns)
        if missing:
            raise _missing_columns_error(what, path, missing) from exc
        raise ShopbenchError(
            f"cannot read {what} file {path} ({type(exc).__name__}: {exc}). The file is "
            f"truncated or not a valid {suffix[1:]} file; download it again."
        ) from exc
    raise ShopbenchError(f"{what} file {path} must end in .parquet, .csv or .tsv")


def _check_path(path: Path, what: str) -> None:
    if not path.exists():
        raise ShopbenchError(
            f"{what} file not found: {path}. Set data.{what} in the config to an existing "
            f"file, or set data.download: true to fetch the official esci-data files."
        )
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ShopbenchError(f"{what} file {path} is not a readable file; check data.{what} "
                             f"and the file's permissions.")


def check_file(path: str | os.PathLike, what: str, columns: list[str]) -> None:
    """Cheap early check of a data file, before any job runs: it exists, is readable, has a
    known suffix and (from the parquet footer or the CSV header alone) every required column.

    Anything this check cannot see cheaply is left to the job that reads the file.
    """
    path = Path(path)
    _check_path(path, what)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".tsv"):
        raise ShopbenchError(f"{what} file {path} must end in .parquet, .csv or .tsv")
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path)
            present, n_rows = set(meta.schema.to_arrow_schema().names), meta.num_rows
        else:
            head = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", nrows=1,
                               encoding="utf-8", dtype=str)
            present, n_rows = set(head.columns), len(head)
    except Exception:
        return  # unreadable: the job reading it says why, with the file's details
    missing = [c for c in columns if c not in present]
    if missing:
        raise _missing_columns_error(what, path, missing, present, columns)
    if n_rows == 0:
        raise _no_rows_error(what, path)


def check_files(examples: str | os.PathLike, products: str | os.PathLike,
                fields: list[str] | None = None) -> None:
    """:func:`check_file` on the examples and the products file (with the product text
    ``fields`` the corpus needs)."""
    check_file(examples, "examples", EXAMPLE_COLUMNS)
    check_file(products, "products", list(dict.fromkeys(PRODUCT_COLUMNS + list(fields or []))))


def _bad_utf8_line(path: Path) -> str:
    """' on line N' for the first line of ``path`` that is not UTF-8 ('' if none is found)."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f" on line {number}"
    return ""


def _non_utf8_column(path: Path) -> str | None:
    """The first binary column of a parquet file that is not valid UTF-8, if any."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        for field in schema:
            if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
                try:
                    pq.read_table(path, columns=[field.name]).column(0).cast(pa.string())
                except pa.ArrowInvalid:
                    return field.name
    except Exception:
        return None
    return None


def _check_complete(df: pd.DataFrame, columns: list[str], what: str, path) -> None:
    """Required columns have a value on every row; a missing one usually means truncation."""
    for col in columns:
        empty = df[col].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise ShopbenchError(
                f"{what} file {path}: column {col} is empty on {int(empty.sum())} row(s), the "
                f"first at data row {row + 1}; every row needs a value there (a file cut short "
                f"ends this way: download it again)."
            )


def _missing_columns_hint(path: Path, columns: list[str] | None) -> list[str]:
    if not columns:
        return []
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            present = set(pq.read_schema(path).names)
        else:
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            present = set(pd.read_csv(path, sep=sep, nrows=0).columns)
    except Exception:
        return []
    return [c for c in columns if c not in present]


def _missing_columns_error(what: str, path, missing: list[str], present=None,
                           wanted=None) -> ShopbenchError:
    """Missing columns; where only product text fields are missing, the text.fields to set."""
    text = [c for c in TEXT_FIELDS if c in (present or ())]
    if what == "products" and present is not None and missing and text and \
            all(c in TEXT_FIELDS and c not in PRODUCT_COLUMNS for c in missing):
        asked = [c for c in (wanted or []) if c in TEXT_FIELDS]
        return ShopbenchError(
            f"products file {path} lacks the product text column(s) {', '.join(missing)} of "
            f"the fields the corpus text is built from (text.fields: [{', '.join(asked)}]); "
            f"it has {', '.join(text)}. Set text.fields to the columns it has, e.g. "
            f"text.fields: [{', '.join(text)}]."
        )
    return ShopbenchError(
        f"{what} file {path} lacks required column(s) {', '.join(missing)}; "
        f"expected the esci-data schema."
    )


def _no_rows_error(what: str, path) -> ShopbenchError:
    return ShopbenchError(
        f"{what} file {path} has no rows, only its column names; point data.{what} at a "
        f"file with data rows (a download cut short after the header ends this way: "
        f"download it again)."
    )


def _check_text(df: pd.DataFrame, columns: list[str], what: str, path) -> None:
    for col in columns:
        if col not in df.columns:
            continue
        values = df[col]
        if values.dtype == object:
            bad = values.map(lambda v: isinstance(v, bytes))
            if bad.any():
                for value in values[bad]:
                    try:
                        value.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise ShopbenchError(
                            f"{what} file {path}: column {col} holds non-UTF-8 text "
                            f"({exc.reason}); re-encode it as UTF-8."
                        ) from exc
                df[col] = values.map(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v)
            nonstr = df[col].map(lambda v: not (v is None or isinstance(v, str) or v != v))
            if nonstr.any():
                raise ShopbenchError(
                    f"{what} file {path}: column {col} must hold text, found "
                    f"{type(df[col][nonstr].iloc[0]).__name__} values."
                )
        elif not (pd.api.types.is_string_dtype(values) or values.isna().all()):
            raise ShopbenchError(
                f"{what} file {path}: column {col} must hold text, found dtype {values.dtype}."
            )


def read_examples(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check shopping_queries_dataset_examples (parquet or CSV)."""
    df = _read_any(path, "examples")
    missing = [c for c in EXAMPLE_COLUMNS if c not in df.columns]
    if missing:
        raise _missing_columns_error("examples", path, missing)
    if df.empty:
        raise _no_rows_error("examples", path)
    _check_complete(df, EXAMPLE_COLUMNS, "examples", path)
    qid = pd.to_numeric(df["query_id"], errors="coerce")
    if qid.isna().any() or (qid != qid.round()).any():
        bad = df.loc[qid.isna() | (qid != qid.round()), "query_id"].iloc[0]
        bad = bad.item() if hasattr(bad, "item") else bad
        raise ShopbenchError(
            f"examples file {path}: column query_id must hold integers, found {bad!r}."
        )
    df["query_id"] = qid.astype("int64")
    _check_text(df, ["query", "product_id", "product_locale", "esci_label"], "examples", path)
    labels = set(df["esci_label"].dropna().unique())
    unknown = labels - set(LABELS)
    if unknown:
        raise ShopbenchError(
            f"examples file {path}: column esci_label holds {sorted(unknown)}; "
            f"expected only E, S, C, I."
        )
    return df


def read_products(path: str | os.PathLike, fields: list[str] | None = None) -> pd.DataFrame:
    """Read and check shopping_queries_dataset_products; (product_id, product_locale) unique."""
    df = _read_any(path, "products")
    wanted = list(dict.fromkeys(PRODUCT_COLUMNS + list(fields or [])))
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise _missing_columns_error("products", path, missing, set(df.columns), wanted)
    if df.empty:
        raise _no_rows_error("products", path)
    _check_complete(df, ["product_id", "product_locale"], "products", path)
    _check_text(df, [c for c in df.columns if c.startswith("product_")], "products", path)
    dup = df.duplicated(["product_id", "product_locale"], keep=False)
    if dup.any():
        keys = df.loc[dup, ["product_id", "product_locale"]].drop_duplicates()
        shown = ", ".join(f"{p}/{l}" for p, l in keys.head(5).itertuples(index=False))
        raise ShopbenchError(
            f"products file {path} has {len(keys)} duplicate (product_id, product_locale) "
            f"key(s), e.g. {shown}; each product must appear once per locale."
        )
    return df


def filter_examples(examples: pd.DataFrame, locale: str, labels: list[str]) -> pd.DataFrame:
    """Rows of one locale whose label is in ``labels``, in file order (the notebook's filter)."""
    if locale not in LOCALES:
        raise ShopbenchError(f"sampling.locale: unknown locale {locale!r}; use one of {LOCALES}")
    if not labels:
        raise ShopbenchError("sampling.labels: the label set is empty; use e.g. [E]")
    mask = (examples["product_locale"] == locale) & examples["esci_label"].isin(labels)
    filtered = examples[mask].copy()
    if filtered.empty:
        raise ShopbenchError(
            f"no rows left after filtering for locale {locale!r} and labels {list(labels)}; "
            f"check sampling.locale and sampling.labels against the data."
        )
    return filtered


def filter_split_version(examples: pd.DataFrame, split: str = "all", version: str = "all",
                         path=None) -> pd.DataFrame:
    """Rows of the official ``split`` (``test``/``train``) and ``version`` (``small``/``large``).

    ``all`` applies no filter (and needs no column), so the existing protocols' sampling is
    untouched by default. A file without the column, or with only empty values in it (e.g. a
    slice that dropped them), stops with an error naming the key to change.
    """
    if split not in SPLITS:
        raise ShopbenchError(f"sampling.split: unknown split {split!r}; use one of {SPLITS}")
    if version not in VERSIONS:
        raise ShopbenchError(f"sampling.version: unknown version {version!r}; use one of "
                             f"{tuple(VERSIONS)}")
    where = f"examples file {path}" if path is not None else "the examples file"
    mask = pd.Series(True, index=examples.index)
    for key, value, column in (("split", split, "split" if split != "all" else None),
                               ("version", version, VERSIONS[version])):
        if column is None:
            continue
        if column not in examples.columns or examples[column].isna().all():
            state = "lacks the column" if column not in examples.columns else \
                "has no values in the column"
            raise ShopbenchError(
                f"sampling.{key}: {value!r} selects rows by the official column {column!r}, "
                f"but {where} {state}; use a file with the esci-data columns split, "
                f"small_version and large_version, or set sampling.{key}: all.")
        if key == "split":
            mask &= examples[column] == value
        else:
            mask &= pd.to_numeric(examples[column], errors="coerce") == 1
    if split == "all" and version == "all":
        return examples
    kept = examples[mask.fillna(False).astype(bool)]
    if kept.empty:
        raise ShopbenchError(f"no rows of {where} have split {split!r} and version "
                             f"{version!r}; check sampling.split and sampling.version.")
    return kept


def sample_examples(
    filtered: pd.DataFrame,
    n_queries: int | str,
    n_rows: int,
    seed: int,
    on_too_few: str = "error",
) -> pd.DataFrame:
    """The notebook's two-stage sample: ``n_queries`` query ids, then ``n_rows`` of their rows.

    ``n_queries: all`` draws every query id (the same ``choice`` call, of the full size).
    """
    query_ids = filtered["query_id"].unique()
    if n_queries == "all":
        n_queries = len(query_ids)
    if n_queries < 1 or n_rows < 1:
        raise ShopbenchError("sampling.n_queries and sampling.n_rows must be positive")
    if len(query_ids) < n_queries:
        message = (
            f"sampling.n_queries is {n_queries} but only {len(query_ids)} queries pass the "
            f"filter"
        )
        if on_too_few != "clamp":
            raise ShopbenchError(
                message + "; lower n_queries or set sampling.on_too_few_queries: clamp."
            )
        log.warning("%s; clamping to %d (sampling.on_too_few_queries: clamp)", message,
                    len(query_ids))
        n_queries = len(query_ids)
    rng = np.random.RandomState(seed)  # same stream as np.random.seed(seed); np.random.choice
    sampled_qids = rng.choice(query_ids, size=n_queries, replace=False)
    subset = filtered[filtered["query_id"].isin(sampled_qids)]
    return subset.sample(n=min(n_rows, len(subset)), random_state=seed)


def sample_queries(filtered: pd.DataFrame, n_queries: int | str, seed: int,
                   on_too_few: str = "error") -> np.ndarray:
    """The ``catalogue`` protocol's draw: ``n_queries`` query ids (or ``all``) of ``filtered``,
    with the notebook's first stage (``RandomState(seed).choice``, no replacement)."""
    query_ids = filtered["query_id"].unique()
    n = len(query_ids) if n_queries == "all" else int(n_queries)
    if n < 1:
        raise ShopbenchError("sampling.n_queries must be positive or all")
    if n > len(query_ids):
        message = f"sampling.n_queries is {n} but only {len(query_ids)} queries pass the filter"
        if on_too_few != "clamp":
            raise ShopbenchError(
                message + "; lower n_queries or set sampling.on_too_few_queries: clamp.")
        log.warning("%s; clamping to %d (sampling.on_too_few_queries: clamp)", message,
                    len(query_ids))
        n = len(query_ids)
    return np.random.RandomState(seed).choice(query_ids, size=n, replace=False)


def queries_of(sample: pd.DataFrame) -> pd.DataFrame:
    """One row per sampled query (qid, query), in order of first appearance in the sample."""
    queries = sample.drop_duplicates("query_id")[["query_id", "query"]]
    return queries.rename(columns={"query_id": "qid"}).reset_index(drop=True)


def judgments_for(examples: pd.DataFrame, qids, locale: str) -> pd.DataFrame:
    """Every judgment (E, S, C, I) of the given queries in one locale, in file order."""
    mask = examples["query_id"].isin(set(qids)) & (examples["product_locale"] == locale)
    return examples[mask]


def qrels_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """TREC qrels (qid, iter, docid, grade) from ESCI rows; grade: E 3, S 2, C 1, I 0.

    Sorted by qid then docid, one judgment per (qid, docid): where a pair is judged more than
    once with different labels (e.g. E and I), the highest label wins (E > S > C > I), with a
    warning that counts such pairs (docs/evaluation.md, "Duplicate judgments").
    """
    qrels = pd.DataFrame({
        "qid": rows["query_id"].astype("int64").to_numpy(),
        "iter": 0,
        "docid": rows["product_id"].astype(str).to_numpy(),
        "grade": rows["esci_label"].map(GRADES).astype("int64").to_numpy(),
    })
    qrels = qrels.sort_values(["qid", "docid", "grade"], ascending=[True, True, False])
    warn_conflicting_judgments(qrels)
    return qrels.drop_duplicates(["qid", "docid"]).reset_index(drop=True)


def warn_conflicting_judgments(qrels: pd.DataFrame, examples: int = 3) -> int:
    """Log a warning counting the (query, product) pairs judged more than once with different
    labels, with the first ``examples`` of them; returns their number."""
    repeated = qrels[qrels.duplicated(["qid", "docid"], keep=False)]
    if repeated.empty:
        return 0
    labels = {grade: label for label, grade in GRADES.items()}
    by_pair = repeated.groupby(["qid", "docid"], sort=True)["grade"]
    kinds = by_pair.nunique()
    conflicting = kinds[kinds > 1]
    if conflicting.empty:
        return 0
    shown = []
    for (qid, docid) in conflicting.index[:examples]:
        grades = sorted(set(repeated.loc[(repeated["qid"] == qid) &
                                         (repeated["docid"] == docid), "grade"]), reverse=True)
        shown.append(f"query {qid} / product {docid}: {' and '.join(labels[g] for g in grades)}")
    same = int((kinds == 1).sum())
    log.warning(
        "%d (query, product) pair(s) of %d judged pairs are judged more than once with "
        "different labels (%s%s); each keeps its highest label (E > S > C > I)%s",
        len(conflicting), qrels[["qid", "docid"]].drop_duplicates().shape[0],
        "; ".join(shown), "; ..." if len(conflicting) > examples else "",
        f"; {same} more pair(s) repeat one label" if same else "")
    return len(conflicting)


def download(url: str, dest: str | os.PathLike, sha256: str | None = None,
             size: int | None = None, timeout: float = 60.0) -> None:
    """Fetch ``url`` to ``dest`` atomically; reject a short read or a size/sha256 mismatch.

    The bytes go to a temporary file beside ``dest`` that is removed on any failure, so an
    interrupted or corrupt download never passes as data.
    """
    import hashlib
    import http.client
    import urllib.request

    from .files import atomic_path

    with atomic_path(dest) as tmp:
        digest, received = hashlib.sha256(), 0
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                expected = resp.headers.get("Content-Length")
                for block in iter(lambda: resp.read(1 << 20), b""):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
        except (OSError, http.client.HTTPException) as exc:
            raise ShopbenchError(f"download of {url} failed ({exc}); nothing was written to "
                                 f"{dest}. Check the network or set data.download: false and "
                                 f"point data paths at local files.") from exc
        if expected is not None and received != int(expected):
            raise ShopbenchError(f"download of {url} was interrupted: {received} of {expected} "
                                 f"bytes; the partial file was removed. Run again.")
        if size is not None and received != size:
            raise ShopbenchError(f"download of {url}: size {received} bytes differs from the "
                                 f"expected {size}; the file was removed.")
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ShopbenchError(f"download of {url}: sha256 {digest.hexdigest()} differs from "
                                 f"the expected {sha256}; the file was removed.")
