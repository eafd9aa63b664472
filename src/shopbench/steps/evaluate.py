"""Evaluation: per-query metrics of each run, then aggregates across approaches and seeds."""

from __future__ import annotations

import logging

import pandas as pd

from .. import trec
from ..errors import ShopbenchError
from ..files import atomic_outputs, atomic_path
from .corpus import read_normalized

log = logging.getLogger("shopbench")


def evaluate(run: str, qrels: str, queries: str, corpus: str, eval_out: str, *,
             approach: str, seed: int, hits_k: list[int], gains: dict,
             relevant_labels: list[str], normalized: str | None = None) -> None:
    """Per-query metrics, with the query text and the top-3 titles marked hit or miss; with
    a query normalization also the normalized text and what changed."""
    from .. import metrics

    run, qrels = trec.read_run(run), trec.read_qrels(qrels)
    table = metrics.per_query(run, qrels, hits_k, gains, relevant_labels)
    queries = trec.read_queries(queries)
    titles = pd.read_parquet(corpus, columns=["docid", "title"])
    title = dict(zip(titles["docid"], titles["title"]))
    rel = metrics.relevance_threshold(relevant_labels)
    relevant = set(map(tuple, qrels.loc[qrels["grade"] >= rel, ["qid", "docid"]].to_numpy()))
    top3 = {}
    for qid, group in run[run["rank"] <= 3].groupby("qid"):
        top3[qid] = " | ".join(
            f"{'[HIT]' if (qid, d) in relevant else '[MISS]'} {title.get(d, d)[:60]}"
            for d in group.sort_values("rank")["docid"])
    table.insert(0, "seed", seed)
    table.insert(0, "approach", approach)
    table.insert(3, "query", table["qid"].map(dict(zip(queries["qid"], queries["query"]))))
    if normalized:
        norm = read_normalized(normalized)
        table.insert(4, "query_normalized", table["qid"].map(dict(zip(norm["qid"],
                                                                     norm["query"]))))
        table.insert(5, "query_changes", table["qid"].map(dict(zip(norm["qid"],
                                                                  norm["changes"]))))
    table["top3"] = table["qid"].map(top3).fillna("")
    trec.write_tsv(table, eval_out)


def _csv(df: pd.DataFrame, path: str) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", float_format="%.6f")


def aggregate(evals: list[str], *, metrics_out: str, summary_out: str, per_query_out: str,
              significance_out: str, worst_out: str, order: list[str], baseline: str,
              bootstrap: int, permutations: int, worst_queries: int) -> None:
    from .. import summary as S

    per_query = pd.concat([pd.read_csv(f, sep="\t", keep_default_na=False,
                                       na_values={"first_rel_rank": [""]})
                           for f in evals], ignore_index=True)
    per_query = per_query.sort_values(["approach", "seed", "qid"], kind="stable",
                                      key=lambda s: s.map(order.index) if s.name == "approach"
                                      else s)
    S.warn_few_queries(per_query)
    metrics = S.per_seed(per_query, order, bootstrap)
    outs = (metrics_out, summary_out, per_query_out, significance_out, worst_out)
    with atomic_outputs(*outs) as (m_tmp, s_tmp, p_tmp, sig_tmp, w_tmp):
        _csv(metrics, m_tmp)
        _csv(S.across_seeds(metrics, per_query, order, bootstrap), s_tmp)
        _csv(per_query, p_tmp)
        _csv(S.significance(per_query, baseline, order, n_perm=permutations), sig_tmp)
        _csv(S.worst_queries(per_query, worst_queries), w_tmp)


def latency(latencies: list[str], latency_out: str, *, order: list[str],
            labels: dict[str, list], deps: dict[str, list[str]],
            note: str | None = None) -> None:
    """p50/p95 latency per approach from per-query latency files; ``labels`` maps each file
    to the [seed, approach] it holds (the rule passes it, so no meaning hangs on the order of
    the files).

    ``note`` (catalogue protocol): searches ran batched and only a sample of queries was timed
    one at a time; every approach is then summarized over the queries timed in all of them,
    and the note goes into a ``measured`` column.
    """
    from .. import summary as S

    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in order}
    for path in latencies:
        if str(path) not in labels:
            raise ShopbenchError(f"latency file {path} has no (seed, approach) label")
        seed, name = labels[str(path)]
        if name not in frames:
            raise ShopbenchError(f"latency file {path} is labelled with unknown approach {name}")
        frame = pd.read_csv(path, sep="\t")
        frame.insert(0, "seed", int(seed))
        frames[name].append(frame)
    missing = [name for name, parts in frames.items() if not parts]
    if missing:
        raise ShopbenchError(f"no latency file for approach(es) {', '.join(missing)}")
    joined = {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
    if note is None:
        _csv(S.latency(joined, deps, order), latency_out)
        return
    timed = None
    for frame in joined.values():
        keys = pd.MultiIndex.from_frame(frame[["seed", "qid"]])
        timed = keys if timed is None else timed.intersection(keys)
    joined = {name: frame[pd.MultiIndex.from_frame(frame[["seed", "qid"]]).isin(timed)]
              .reset_index(drop=True) for name, frame in joined.items()}
    table = S.latency(joined, deps, order)
    table["measured"] = note
    _csv(table, latency_out)


