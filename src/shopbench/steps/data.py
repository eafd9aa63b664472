"""Data: download the official files, sample queries and judgments per seed."""

from __future__ import annotations

import logging

from .. import data as D
from .. import trec
from ..files import atomic_outputs, write_frame

log = logging.getLogger("shopbench")


def download(*, url: str, sha256: str | None, size: int | None, file_out: str) -> None:
    D.download(url, file_out, sha256=sha256, size=size)


def sample(examples: str, qrels_out: str, queries_out: str, sample_out: str, *, seed: int,
           locale: str, labels: list[str], n_queries: int | str, n_rows: int,
           on_too_few_queries: str, protocol: str, split: str = "all",
           version: str = "all", folds: int | None = None, fold_seed: int = 42) -> None:
    """Filter and sample (notebook), then write the sample, its queries and the qrels.

    ``seed`` protocol: qrels are the sampled rows. Other protocols: every judgment of the
    sampled queries (E, S, C and I), graded. ``catalogue``: queries drawn from those of the
    split and version (``n_rows`` unused); the sample is every judgment of those queries.
    """
    ex = D.filter_split_version(D.read_examples(examples), split, version, examples)
    filtered = D.filter_examples(ex, locale, labels)
    if folds:  # seed N evaluates fold N, every query of it (shopbench.train.fold_queries)
        from ..train import fold_queries

        qids = fold_queries(filtered, folds, fold_seed)[seed]
        rows = filtered[filtered["query_id"].isin(set(qids))]
        judged = rows if protocol == "seed" else D.judgments_for(ex, qids, locale)
        log.info("fold %d of %d: %d of %d queries, %d rows", seed, folds, len(qids),
                 filtered["query_id"].nunique(), len(rows))
    elif protocol == "catalogue":
        qids = D.sample_queries(filtered, n_queries, seed, on_too_few_queries)
        rows = judged = D.judgments_for(ex, qids, locale)
        log.info("seed %d: %d of %d queries (split %s, version %s), %d judgments", seed,
                 len(qids), filtered["query_id"].nunique(), split, version, len(rows))
    else:
        rows = D.sample_examples(filtered, n_queries, n_rows, seed, on_too_few_queries)
        log.info("seed %d: %d filtered rows, sample %d rows, %d queries, %d products", seed,
                 len(filtered), len(rows), rows["query_id"].nunique(),
                 rows["product_id"].nunique())
        if n_queries != "all" and rows["query_id"].nunique() < n_queries:
            log.warning("seed %d: only %d of the %d queries asked for (sampling.n_queries) are "
                        "evaluated: the notebook's sampling draws sampling.n_rows = %d rows "
                        "from those queries' rows, and a query none of whose rows is drawn "
                        "drops out (raise n_rows to keep more)", seed,
                        rows["query_id"].nunique(), n_queries, n_rows)
        judged = rows if protocol == "seed" else D.judgments_for(ex, rows["query_id"].unique(),
                                                                  locale)
    with atomic_outputs(sample_out, queries_out, qrels_out) as (s_tmp, q_tmp, r_tmp):
        write_frame(rows.reset_index(drop=True), s_tmp)
        trec.write_tsv(D.queries_of(rows).sort_values("qid"), q_tmp)
        trec.write_qrels(D.qrels_frame(judged), r_tmp)
