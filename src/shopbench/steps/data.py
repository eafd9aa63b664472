"""Data: download the official files, sample queries and judgments per seed."""

from __future__ import annotations

import json
import logging

from .. import data as D
from .. import trec
from ..files import atomic_outputs, write_frame

log = logging.getLogger("shopbench")


def download(*, url: str, sha256: str | None, size: int | None, file_out: str) -> None:
    D.download(url, file_out, sha256=sha256, size=size)


def sample(examples: str, qrels_out: str, queries_out: str, sample_out: str,
           sampling_out: str | None = None, *, seed: int, locale: str, labels: list[str],
           n_queries: int | str, n_rows: int, on_too_few_queries: str, protocol: str,
           split: str = "all", version: str = "all", folds: int | None = None,
           fold_seed: int = 42) -> None:
    """Filter and sample (notebook), then write the sample, its queries and the qrels, and in
    ``sampling_out`` how many queries were asked for, pass the filter, are drawn and are kept.

    ``seed`` protocol: qrels are the sampled rows. Other protocols: every judgment of the
    sampled queries (E, S, C and I), graded. ``catalogue``: queries drawn from those of the
    split and version (``n_rows`` unused); the sample is every judgment of those queries.
    """
    ex = D.filter_split_version(D.read_examples(examples), split, version, examples)
    filtered = D.filter_examples(ex, locale, labels)
    passing = int(filtered["query_id"].nunique())
    drawn = passing if n_queries == "all" else min(int(n_queries), passing)
    if folds:  # seed N evaluates fold N, every query of it (shopbench.train.fold_queries)
        from ..train import fold_queries

        qids = fold_queries(filtered, folds, fold_seed)[seed]
        rows = filtered[filtered["query_id"].isin(set(qids))]
        judged = rows if protocol == "seed" else D.judgments_for(ex, qids, locale)
        drawn = kept = len(qids)
        n_queries = "all"  # unused with folds: no warning about it
        log.info("fold %d of %d: %d of %d queries, %d rows", seed, folds, kept, passing,
                 len(rows))
    elif protocol == "catalogue":
        qids = D.sample_queries(filtered, n_queries, seed, on_too_few_queries)
        rows = judged = D.judgments_for(ex, qids, locale)
        kept = len(qids)
        log.info("seed %d: %d of %d queries (split %s, version %s), %d judgments", seed,
                 len(qids), passing, split, version, len(rows))
    else:
        rows = D.sample_examples(filtered, n_queries, n_rows, seed, on_too_few_queries)
        kept = int(rows["query_id"].nunique())
        log.info("seed %d: %d filtered rows, sample %d rows, %d queries, %d products", seed,
                 len(filtered), len(rows), kept, rows["product_id"].nunique())
        if kept < drawn:
            log.warning("seed %d: %d of the %d queries drawn drop out: the notebook's sampling "
                        "draws sampling.n_rows = %d rows from the drawn queries' rows, and a "
                        "query none of whose rows is drawn drops out (raise n_rows to keep "
                        "more)", seed, drawn - kept, drawn, n_rows)
        judged = rows if protocol == "seed" else D.judgments_for(ex, rows["query_id"].unique(),
                                                                  locale)
    if n_queries != "all" and drawn < int(n_queries):  # clamped (the n_rows cause: above)
        log.warning("seed %d: %d of the %d queries asked for (sampling.n_queries) are "
                    "evaluated; only %d queries pass the filter (clamped: "
                    "sampling.on_too_few_queries: clamp)", seed, kept, int(n_queries), passing)
    record = {"seed": seed, "asked": n_queries, "pass_filter": passing, "drawn": drawn,
              "kept": kept, "n_rows": None if protocol == "catalogue" else n_rows}
    outs = [sample_out, queries_out, qrels_out] + ([sampling_out] if sampling_out else [])
    with atomic_outputs(*outs) as tmps:
        write_frame(rows.reset_index(drop=True), tmps[0])
        trec.write_tsv(D.queries_of(rows).sort_values("qid"), tmps[1])
        trec.write_qrels(D.qrels_frame(judged), tmps[2])
        if sampling_out:
            tmps[3].write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
