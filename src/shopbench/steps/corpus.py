"""Corpus: the products a protocol searches, their fields, and the normalized queries.

The protocol decides only where the corpus comes from and its scope: ``catalogue`` builds one
corpus per experiment (every product of the locale, streamed); the other protocols one per seed
(the sampled or judged products). Everything after the corpus is the same for every protocol.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .. import data as D
from .. import text as T
from .. import trec
from ..errors import ShopbenchError
from ..files import atomic_outputs, write_frame

log = logging.getLogger("shopbench")

FIELDS = ["product_title", "product_brand", "product_color", "product_bullet_point",
          "product_description"]


def corpus(products: str, corpus_out: str, *, protocol: str, fields: list[str], locale: str,
           examples: str | None = None, sample: str | None = None,
           candidates_out: str | None = None, seed: int | None = None,
           distractors: int = 0) -> None:
    """The corpus (docid, title, text) the protocol searches, and task1 candidates."""
    if protocol == "catalogue":
        T.catalogue_corpus(products, corpus_out, fields=fields, locale=locale)
        return
    rows = pd.read_parquet(sample)
    prods = D.read_products(products, fields)
    judged = rows
    if protocol != "seed":
        judged = D.judgments_for(D.read_examples(examples), rows["query_id"].unique(), locale)
    keys = T.corpus_keys(protocol, rows, judged)
    if protocol == "judged-pool" and distractors:
        keys = pd.concat([keys, T.draw_distractors(prods, keys, locale, distractors, seed)],
                         ignore_index=True)
    corp = T.build_corpus(keys, prods, fields)
    log.info("corpus: %d products (%s protocol)", len(corp), protocol)
    with atomic_outputs(corpus_out, candidates_out) as (c_tmp, k_tmp):
        write_frame(corp, c_tmp)
        trec.write_tsv(T.candidates_frame(protocol, judged, corp), k_tmp)


def fields(products: str, corpus: str, fields_out: str, *, locale: str) -> None:
    """Each product field's text (cleaned as the corpus text), in corpus order: for BM25 field
    weighting and for bi-encoders that embed chosen fields."""
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].astype(str)
    prods = D.read_products(products, FIELDS)
    prods = prods[prods["product_locale"] == locale]
    keyed = prods.assign(docid=prods["product_id"].astype(str)).drop_duplicates("docid")
    merged = pd.DataFrame({"docid": docids}).merge(keyed, on="docid", how="left")
    frame = pd.DataFrame({"docid": merged["docid"]})
    for field in FIELDS:
        frame[field] = T.product_text(merged, [field])
    with atomic_outputs(fields_out) as (tmp,):
        write_frame(frame, tmp)


def read_fields(fields_file: str, docids: np.ndarray, columns=None) -> pd.DataFrame:
    frame = pd.read_parquet(fields_file, columns=None if columns is None
                            else ["docid", *columns])
    if frame["docid"].tolist() != list(docids):
        raise ShopbenchError(f"{fields_file} does not hold the corpus products in order; "
                             f"delete it and rerun")
    return frame


def normalize_queries(queries: str, corpus: str, queries_out: str, *, spec: dict,
                      dictionary: str | None = None) -> None:
    """The queries after a named normalization: qid, query (normalized), original, changes
    (what each step changed), seconds (per query). ``dictionary``: the dictionary step's file,
    an input so that editing it reruns the normalization (read through ``spec``)."""
    from .. import analyzers
    from .. import normalize as N

    frame = trec.read_queries(queries)
    vocabulary: set[str] = set()
    if "spelling" in spec.get("steps", []):
        for text in pd.read_parquet(corpus, columns=["text"])["text"]:
            vocabulary.update(analyzers.unicode_words(text))
    texts, changes, seconds = N.Normalizer(spec, vocabulary).run(frame["query"].tolist())
    frame = pd.DataFrame({"qid": frame["qid"], "query": texts, "original": frame["query"],
                          "changes": changes, "seconds": seconds})
    changed = frame[frame["query"] != frame["original"]]
    log.info("query normalization %s: %d of %d queries changed", spec.get("name"),
             len(changed), len(frame))
    for row in changed.head(20).itertuples():
        log.info("  %s: %r -> %r (%s)", row.qid, row.original, row.query, row.changes)
    trec.write_tsv(frame, queries_out)


def read_normalized(path: str) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"qid": "int64", "query": str, "original": str,
                                              "changes": str}, keep_default_na=False)


def read_query_texts(queries_file: str, normalized_file: str | None = None):
    """The queries (qid, query) an approach searches with, and each query's normalization
    seconds (zeros without a normalization)."""
    queries = trec.read_queries(queries_file)
    if not normalized_file:
        return queries, np.zeros(len(queries))
    norm = read_normalized(normalized_file)
    if norm["qid"].tolist() != queries["qid"].tolist():
        raise ShopbenchError(f"{normalized_file} does not hold the queries of {queries_file} "
                             f"in order; delete it and rerun")
    return norm[["qid", "query"]], norm["seconds"].to_numpy()
