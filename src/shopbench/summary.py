"""Aggregate per-query tables: metrics per approach and seed, across seeds, significance,
worst queries and latency. Pure functions on frames."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import stats

log = logging.getLogger(__name__)


def metric_columns(per_query: pd.DataFrame) -> list[str]:
    skip = {"approach", "seed", "qid", "query", "query_normalized", "query_changes",
            "first_rel_rank", "top3"}
    return [c for c in per_query.columns if c not in skip]


def warn_few_queries(per_query: pd.DataFrame) -> None:
    """Log a warning per seed whose CIs rest on fewer than ``stats.FEW_QUERIES`` queries."""
    for seed, n in per_query.groupby("seed", sort=False)["qid"].nunique().items():
        if n < stats.FEW_QUERIES:
            log.warning("seed %s: only %d %s: its bootstrap CIs and tests rest on very few "
                        "queries and say little (fewer than %d)", seed, n,
                        "query" if n == 1 else "queries", stats.FEW_QUERIES)


def per_seed(per_query: pd.DataFrame, order: list[str], n_boot: int = 1000) -> pd.DataFrame:
    """metrics.csv: one row per approach and seed, means and bootstrap 95% CIs over queries
    (rng seeded with the sampling seed; the same resamples make summary.csv's interval)."""
    cols = metric_columns(per_query)
    rows = []
    for (approach, seed), g in per_query.groupby(["approach", "seed"], sort=False):
        row = {"approach": approach, "seed": int(seed), "n_queries": len(g)}
        row.update({c: g[c].mean() for c in cols})
        for c in cols:
            lo, hi = stats.bootstrap_ci(g[c].to_numpy(), n_boot, seed=int(seed))
            row[f"{c}_ci_low"], row[f"{c}_ci_high"] = lo, hi
        rows.append(row)
    out = pd.DataFrame(rows)
    out["approach"] = pd.Categorical(out["approach"], order, ordered=True)
    return out.sort_values(["approach", "seed"]).reset_index(drop=True).astype({"approach": str})


#: Every metric shopbench computes (Hits@k, MRR, nDCG, recall, MAP) lies in [0, 1].
METRIC_RANGE = (0.0, 1.0)


def across_seeds(metrics: pd.DataFrame, per_query: pd.DataFrame, order: list[str],
                 n_boot: int = 1000) -> pd.DataFrame:
    """summary.csv: per approach, the mean over all (seed, query) pairs (each evaluated query
    of each seed counts once, as in significance.csv and as ``n_queries`` counts them) with its
    bootstrap 95% CI (``*_ci_*``): queries resampled within each seed's sample, from the same
    resamples as metrics.csv's per-seed intervals, so with one seed both files give the same
    interval. Beside it, the spread across seeds: a Student-t 95% interval of metrics.csv's
    per-seed means (``*_seed_ci_*``, empty with one seed), clipped to the metric's range
    [0, 1]. With the same number of queries in every seed the mean of the per-seed means is
    the value; otherwise it weighs a seed's queries by 1 / its size and may differ slightly."""
    cols = metric_columns(per_query)
    rows = []
    for approach in order:
        m = metrics[metrics["approach"] == approach]
        q = per_query[per_query["approach"] == approach]
        by_seed = [(g, int(seed)) for seed, g in q.groupby("seed", sort=True)]
        row = {"approach": approach, "n_seeds": len(m), "n_queries": len(q)}
        for c in cols:
            row[c] = float(q[c].mean())
            _, lo, hi = stats.t_ci(m[c].to_numpy(), bounds=METRIC_RANGE)
            row[f"{c}_seed_ci_low"], row[f"{c}_seed_ci_high"] = lo, hi
            row[f"{c}_ci_low"], row[f"{c}_ci_high"] = stats.stratified_bootstrap_ci(
                [(g[c].to_numpy(), seed) for g, seed in by_seed], n_boot)
        rows.append(row)
    return pd.DataFrame(rows)


def significance(per_query: pd.DataFrame, baseline: str, order: list[str],
                 metrics: list[str] | None = None, n_perm: int = 10000) -> pd.DataFrame:
    """Paired tests of each approach against ``baseline`` over (seed, query) pairs, for every
    metric (or ``metrics``): t-test and sign-flip randomization test, each Holm-corrected
    across approaches per metric."""
    metrics = [m for m in (metrics or metric_columns(per_query)) if m in per_query.columns]
    wide = per_query.pivot_table(index=["seed", "qid"], columns="approach",
                                 values=metrics, aggfunc="first")
    rows = []
    for metric in metrics:
        base = wide[(metric, baseline)].to_numpy()
        block = []
        for approach in order:
            if approach == baseline:
                continue
            other = wide[(metric, approach)].to_numpy()
            w, t, l = stats.wins_ties_losses(other, base)
            block.append({
                "approach": approach, "baseline": baseline, "metric": metric,
                "n": len(base), "mean": other.mean(), "baseline_mean": base.mean(),
                "diff": other.mean() - base.mean(), "wins": w, "ties": t, "losses": l,
                "p_ttest": stats.paired_t_test(other, base),
                "p_perm": stats.permutation_test(other, base, n_perm, seed=0),
            })
        if block:
            frame = pd.DataFrame(block)
            frame["p_ttest_holm"] = stats.holm(frame["p_ttest"])
            frame["p_perm_holm"] = stats.holm(frame["p_perm"])
            rows.append(frame)
    if rows and 0 < rows[0]["n"].iloc[0] < stats.FEW_QUERIES:
        log.warning("significance tests rest on only %d (seed, query) pairs: p-values say "
                    "little (the exact randomization test cannot go below 2 / 2**n = %.3g)",
                    rows[0]["n"].iloc[0], 2 / 2 ** rows[0]["n"].iloc[0])
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def worst_queries(per_query: pd.DataFrame, n: int = 10, by: str = "mrr") -> pd.DataFrame:
    """Per approach the ``n`` worst (seed, query) rows by ``by`` (then nDCG@10, then qid)."""
    keys = [by, "ndcg@10", "seed", "qid"] if "ndcg@10" in per_query else [by, "seed", "qid"]
    rank = {name: i for i, name in enumerate(dict.fromkeys(per_query["approach"]))}
    ordered = per_query.assign(_order=per_query["approach"].map(rank))
    ordered = ordered.sort_values(["_order"] + keys, kind="stable")
    cols = ["approach", "seed", "qid", "query", "query_normalized", "query_changes", by,
            "ndcg@10", "first_rel_rank", "top3"]
    return ordered.groupby("approach", sort=False).head(n)[[c for c in cols if c in ordered]]


def latency(frames: dict[str, pd.DataFrame], deps: dict[str, list[str]],
            order: list[str]) -> pd.DataFrame:
    """p50/p95/mean per-query latency in ms: each step alone and the whole pipeline (its own
    time plus that of every run it is built on)."""
    total: dict[str, pd.Series] = {}

    def pipeline(name: str) -> pd.Series:
        if name not in total:
            own = frames[name].set_index(["seed", "qid"])["seconds"]
            for dep in deps.get(name, []):
                own = own.add(pipeline(dep), fill_value=0.0)
            total[name] = own
        return total[name]

    rows = []
    for name in order:
        own = frames[name]["seconds"].to_numpy() * 1000
        pipe = pipeline(name).to_numpy() * 1000
        rows.append({"approach": name, "n": len(own),
                     "step_p50_ms": np.percentile(own, 50), "step_p95_ms": np.percentile(own, 95),
                     "p50_ms": np.percentile(pipe, 50), "p95_ms": np.percentile(pipe, 95),
                     "mean_ms": pipe.mean()})
    return pd.DataFrame(rows)
