"""Product text and the corpus each protocol searches.

Product text is the notebook's: the configured fields, missing -> empty, joined with single
spaces, runs of whitespace collapsed, stripped; products whose text is empty are dropped.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .errors import ShopbenchError

log = logging.getLogger(__name__)

PROTOCOLS = ("seed", "judged-pool", "task1-rerank")


def product_text(products: pd.DataFrame, fields: list[str]) -> pd.Series:
    """The notebook's concatenation of ``fields`` for each product row (column-wise: fields
    joined by single spaces, whitespace runs collapsed, stripped)."""
    parts = [products[f].fillna("").astype(str) for f in fields]
    joined = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
    return joined.str.replace(r"\s+", " ", regex=True).str.strip()


def corpus_keys(protocol: str, sample: pd.DataFrame, judgments: pd.DataFrame) -> pd.DataFrame:
    """(product_id, product_locale) of the corpus, in first-appearance order.

    ``seed``: the sampled rows' products (the notebook's corpus). ``judged-pool`` and
    ``task1-rerank``: every judged product of the sampled queries.
    """
    if protocol not in PROTOCOLS:
        raise ShopbenchError(f"protocol: unknown protocol {protocol!r}; use one of {PROTOCOLS}")
    rows = sample if protocol == "seed" else judgments
    return rows[["product_id", "product_locale"]].drop_duplicates().reset_index(drop=True)


def draw_distractors(products: pd.DataFrame, keys: pd.DataFrame, locale: str, n: int,
                     seed: int) -> pd.DataFrame:
    """``n`` products of ``locale`` outside ``keys``, drawn with ``seed`` (sorted id order)."""
    if n <= 0:
        return keys.iloc[0:0]
    pool = products.loc[products["product_locale"] == locale, "product_id"]
    pool = np.sort(pool[~pool.isin(set(keys["product_id"]))].unique())
    if len(pool) < n:
        raise ShopbenchError(
            f"distractors: asked for {n} but only {len(pool)} unjudged {locale!r} products exist"
        )
    chosen = np.random.RandomState(seed).choice(pool, size=n, replace=False)
    return pd.DataFrame({"product_id": chosen, "product_locale": locale})


def build_corpus(keys: pd.DataFrame, products: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """Corpus frame (docid, title, text) for ``keys``; judged products must exist in products."""
    merged = keys.merge(products, on=["product_id", "product_locale"], how="left",
                        indicator=True)
    absent = merged["_merge"] == "left_only"
    if absent.any():
        ids = merged.loc[absent, "product_id"].tolist()
        raise ShopbenchError(
            f"{len(ids)} judged product(s) are missing from the products file, e.g. "
            f"{', '.join(map(str, ids[:5]))}; use the products file that matches the examples."
        )
    text = product_text(merged, fields)
    empty = text.str.len() == 0
    if empty.all():
        raise ShopbenchError(
            f"every product has empty text in fields {fields}; check text.fields."
        )
    if empty.any():
        ids = merged.loc[empty, "product_id"].tolist()
        log.warning("dropping %d product(s) whose fields %s are all empty: %s", len(ids),
                    fields, ", ".join(map(str, ids[:10])))
    corpus = pd.DataFrame({
        "docid": merged["product_id"].astype(str),
        "title": merged["product_title"].fillna("").astype(str),
        "text": text,
    })
    return corpus[~empty.to_numpy()].reset_index(drop=True)


def candidates_frame(protocol: str, judgments: pd.DataFrame, corpus: pd.DataFrame) -> pd.DataFrame:
    """Per-query candidate docids for ``task1-rerank`` (empty for the other protocols)."""
    if protocol != "task1-rerank":
        return pd.DataFrame({"qid": pd.Series(dtype="int64"), "docid": pd.Series(dtype=str)})
    cands = judgments[["query_id", "product_id"]].drop_duplicates()
    cands = cands[cands["product_id"].isin(set(corpus["docid"]))]
    cands = cands.rename(columns={"query_id": "qid", "product_id": "docid"})
    return cands.sort_values(["qid", "docid"]).reset_index(drop=True)


ROWS_PER_PIECE = 50_000


def catalogue_corpus(products: str, corpus_out: str, *, fields: list[str], locale: str,
                     rows_per_piece: int = ROWS_PER_PIECE) -> int:
    """Write the catalogue corpus (docid, title, text): every ``locale`` product with non-empty
    text, in products-file order. Reads only the needed columns, a piece at a time, and writes
    the parquet file piece by piece, so memory stays bounded at 1.2M products."""
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from . import data as D
    from .files import atomic_path

    path = Path(products)
    columns = list(dict.fromkeys(["product_id", "product_locale", "product_title"] + fields))
    if path.suffix.lower() != ".parquet":  # CSV/TSV: read the needed columns, then as below
        pieces = [D.read_products(path, fields)[columns]]
        batches = (pa.RecordBatch.from_pandas(p, preserve_index=False) for p in pieces)
    else:
        if not path.exists():
            D.read_products(path, fields)  # its clear "not found" error
        missing = [c for c in columns if c not in pq.read_schema(path).names]
        if missing:
            raise D._missing_columns_error("products", path, missing)
        batches = pq.ParquetFile(path).iter_batches(batch_size=rows_per_piece, columns=columns)
    schema = pa.schema([("docid", pa.string()), ("title", pa.string()), ("text", pa.string())])
    seen: set[str] = set()
    kept = dropped = 0
    with atomic_path(corpus_out) as tmp:
        writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        try:
            for batch in batches:
                frame = batch.to_pandas()
                frame = frame[frame["product_locale"] == locale]
                if frame["product_id"].isna().any():
                    raise ShopbenchError(f"products file {path}: column product_id is empty on "
                                         f"some {locale!r} rows; download it again.")
                ids = frame["product_id"].astype(str)
                dup = ids[ids.duplicated() | ids.isin(seen)]
                if len(dup):
                    raise ShopbenchError(
                        f"products file {path} has duplicate (product_id, product_locale) "
                        f"key(s), e.g. {dup.iloc[0]}/{locale}; each product must appear once "
                        f"per locale.")
                seen.update(ids)
                text = product_text(frame, fields)
                keep = (text.str.len() > 0).to_numpy()
                dropped += int((~keep).sum())
                piece = pd.DataFrame({"docid": ids.to_numpy()[keep],
                                      "title": frame["product_title"].fillna("").astype(str)
                                      .to_numpy()[keep],
                                      "text": text.to_numpy()[keep]})
                kept += len(piece)
                writer.write_table(pa.Table.from_pandas(piece, schema=schema,
                                                        preserve_index=False))
        finally:
            writer.close()
        if kept == 0:
            raise ShopbenchError(f"no {locale!r} product with non-empty text in fields "
                                 f"{fields} in {path}; check sampling.locale and text.fields.")
    log.info("catalogue corpus: %d %s products (%d dropped: empty text)", kept, locale,
             dropped)
    return kept
