"""Rank fusion of several runs, one query at a time (so each query's fusion time is measured).

Methods (each over every run's top ``depth``, ties broken by docid ascending; ``ties="notebook"``
on ``rrf``: the notebook's order instead, a stable sort by descending fused score over the order
in which products first appear, runs in the given order, each in rank order):

- ``rrf``: reciprocal rank fusion (Cormack et al., 2009), the notebook's hybrid:
  score(d) = sum over runs of weight / (k + rank(d)), rank from 1. With every weight 1 (the
  default) this is plain RRF; other weights give weighted RRF.
- ``combsum``: sum over runs of weight * norm(score), where norm is the run's per-query score
  normalization (Fox & Shaw, 1994; the normalization-and-combination design of OpenSearch's
  hybrid search). A product missing from a run adds 0 for that run.
- ``combmnz``: the CombSUM score times the number of runs (with a non-zero weight) that
  returned the product.

The fused list keeps its best ``size`` products (``fuse``), as OpenSearch's hybrid query
returns ``size`` results; without a size it is the union of the runs' top ``depth``, which is
deeper than any input (the notebook's hybrid).

Normalizations of one run's scores for one query: ``min-max`` (s - min) / (max - min), 1 when
all scores are equal; ``z-score`` (s - mean) / std (population std), 0 when std is 0; ``l2``
s / sqrt(sum s^2), 0 when all are 0.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from .errors import ShopbenchError

METHODS = ("rrf", "combsum", "combmnz")
TIES = ("docid", "notebook")
NORMALIZATIONS = ("min-max", "z-score", "l2")


def normalize(scores: list[float], how: str) -> list[float]:
    """One run's scores for one query, normalized (see the module docstring)."""
    if not scores:
        return []
    if how == "min-max":
        lo, hi = min(scores), max(scores)
        if hi == lo:
            return [1.0] * len(scores)
        return [(s - lo) / (hi - lo) for s in scores]
    if how == "z-score":
        mean = sum(scores) / len(scores)
        std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
        return [0.0] * len(scores) if std == 0 else [(s - mean) / std for s in scores]
    if how == "l2":
        norm = math.sqrt(sum(s * s for s in scores))
        return [0.0] * len(scores) if norm == 0 else [s / norm for s in scores]
    raise ShopbenchError(f"unknown score normalization {how!r}; use one of {list(NORMALIZATIONS)}")


def check(method: str, n_runs: int, weights: list[float] | None,
          normalization: str = "min-max", ties: str = "docid") -> list[float]:
    """The per-run weights (default all 1); ShopbenchError on a bad method, weights,
    normalization or ties."""
    if method not in METHODS:
        raise ShopbenchError(f"unknown fusion method {method!r}; use one of {list(METHODS)}")
    if ties not in TIES:
        raise ShopbenchError(f"unknown ties {ties!r}; use one of {list(TIES)}")
    if ties == "notebook" and method != "rrf":
        raise ShopbenchError(f"ties 'notebook' is the notebook's RRF order; method {method!r} "
                             f"has none: use ties 'docid'")
    if normalization not in NORMALIZATIONS:
        raise ShopbenchError(f"unknown score normalization {normalization!r}; use one of "
                             f"{list(NORMALIZATIONS)}")
    if weights is None:
        return [1.0] * n_runs
    if len(weights) != n_runs:
        raise ShopbenchError(f"{len(weights)} weight(s) for {n_runs} runs: give one weight per "
                             f"run, in the order of runs")
    if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise ShopbenchError(f"weights {list(weights)}: none may be negative and one must be "
                             f"positive")
    return [float(w) for w in weights]


def fuse_query(lists: list[tuple[list[str], list[float]]], method: str = "rrf", k: int = 60,
               weights: list[float] | None = None, normalization: str = "min-max",
               ties: str = "docid") -> tuple[list[str], list[float]]:
    """Fuse one query's ranked lists [(docids, scores), ...] (each in rank order, already cut
    to the depth); returns docids and fused scores, best first.

    Equal fused scores: docid ascending, or with ``ties="notebook"`` the notebook's
    ``sorted(rrf.items(), key=lambda kv: -kv[1])``, stable over first-appearance order (the
    lists in order, each in rank order)."""
    weights = weights or [1.0] * len(lists)
    fused: dict[str, float] = {}
    hits: dict[str, int] = {}
    for (docids, scores), w in zip(lists, weights):
        if method == "rrf":
            contrib = [w * (1.0 / (k + rank)) for rank in range(1, len(docids) + 1)]
        else:
            contrib = [w * s for s in normalize(list(scores), normalization)]
        for doc, c in zip(docids, contrib):
            fused[doc] = fused.get(doc, 0.0) + c
            if w:
                hits[doc] = hits.get(doc, 0) + 1
    if method == "combmnz":
        fused = {doc: s * hits.get(doc, 0) for doc, s in fused.items()}
    if ties == "notebook":
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
    else:
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    return [d for d, _ in ranked], [s for _, s in ranked]


def fuse(runs: list[pd.DataFrame], method: str = "rrf", k: int = 60, depth: int = 100,
         weights: list[float] | None = None, normalization: str = "min-max",
         ties: str = "docid", size: int | None = None):
    """Fuse run frames (qid, docid, rank[, score]) query by query, each cut to its top
    ``depth``; each fused list keeps its best ``size`` products (None: the whole union, up to
    len(runs) x depth).

    Returns qids, ranked docids, scores per query, and each query's fusion seconds.
    """
    if size is not None and size < 1:
        raise ShopbenchError(f"fusion size {size}: keep at least one product per query")
    weights = check(method, len(runs), weights, normalization, ties)
    per_run = []
    for run in runs:
        top = run.loc[run["rank"] <= depth].sort_values(["qid", "rank"], kind="stable")
        scores = top["score"] if "score" in top else pd.Series(0.0, index=top.index)
        per_run.append({qid: (g["docid"].tolist(), scores.loc[g.index].tolist())
                        for qid, g in top.groupby("qid", sort=False)})
    qids = sorted(set().union(*per_run))
    docids, fused_scores, seconds = [], [], []
    for qid in qids:
        start = time.perf_counter()
        lists = [r.get(qid, ([], [])) for r in per_run]
        ranked, sc = fuse_query(lists, method, k, weights, normalization, ties)
        if size is not None:
            ranked, sc = ranked[:size], sc[:size]
        seconds.append(time.perf_counter() - start)
        docids.append(ranked)
        fused_scores.append(np.asarray(sc, dtype=np.float64))
    return qids, docids, fused_scores, seconds


def rrf(runs: list[pd.DataFrame], k: int = 60, depth: int = 100) -> tuple[list, list, list]:
    """Plain RRF; returns qids, ranked docids and scores per query."""
    qids, docids, scores, _ = fuse(runs, "rrf", k, depth)
    return qids, docids, scores
