"""TREC run and qrels files, and ranking helpers shared by every approach.

Run file: ``qid Q0 docid rank score tag``, ranks from 1, sorted by qid then rank. Ties in score
are broken by docid ascending, so runs are deterministic (``ties="notebook"``: the notebook's
``np.argsort(scores)[::-1]`` order instead, see :func:`top_k`).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .files import atomic_path

RUN_COLUMNS = ["qid", "q0", "docid", "rank", "score", "tag"]
TIES = ("docid", "notebook")


def top_k(scores: np.ndarray, docids: np.ndarray, k: int,
          ties: str = "docid") -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the best ``k`` entries: score descending, then docid ascending.

    On long score arrays only the entries scoring at least the ``k``-th best (ties included)
    are sorted, which gives the same order as sorting everything.

    ``ties="notebook"``: the notebook's order, ``np.argsort(scores)[::-1][:k]`` over the
    array as given (numpy's default sort, a full sort: equal scores come in the order that
    expression gives, which depends on the positions, not on the docids).
    """
    if ties == "notebook":
        order = np.argsort(scores)[::-1][:k]
        return order, scores[order]
    if ties != "docid":
        raise ValueError(f"unknown ties {ties!r}; use one of {list(TIES)}")
    k = min(k, len(scores))
    values = -np.asarray(scores, dtype=np.float64)
    if 0 < k < len(values) // 8:
        kth = np.partition(values, k - 1)[k - 1]
        if not np.isnan(kth):
            keep = np.flatnonzero(values <= kth)
            order = keep[np.lexsort((np.asarray(docids)[keep], values[keep]))[:k]]
            return order, scores[order]
    order = np.lexsort((docids, values))[:k]
    return order, scores[order]


def run_frame(qids: list, docids: list[list[str]], scores: list, tag: str) -> pd.DataFrame:
    """A run frame from per-query ranked docids and scores (already in rank order)."""
    rows = {"qid": [], "docid": [], "rank": [], "score": []}
    for qid, docs, sc in zip(qids, docids, scores):
        rows["qid"].extend([qid] * len(docs))
        rows["docid"].extend(docs)
        rows["rank"].extend(range(1, len(docs) + 1))
        rows["score"].extend(np.asarray(sc, dtype=np.float64).tolist())
    df = pd.DataFrame(rows)
    df.insert(1, "q0", "Q0")
    df["tag"] = tag
    return df[RUN_COLUMNS]


def write_run(run: pd.DataFrame, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for qid, q0, docid, rank, score, tag in run[RUN_COLUMNS].itertuples(index=False):
            out.write(f"{qid} {q0} {docid} {rank} {score:.6f} {tag}\n")


def read_run(path: str | os.PathLike) -> pd.DataFrame:
    run = pd.read_csv(path, sep=" ", header=None, names=RUN_COLUMNS,
                      dtype={"qid": "int64", "docid": str, "rank": "int64", "score": "float64"})
    return run.sort_values(["qid", "rank"], kind="stable").reset_index(drop=True)


def write_qrels(qrels: pd.DataFrame, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        qrels[["qid", "iter", "docid", "grade"]].to_csv(tmp, sep=" ", header=False, index=False,
                                                       lineterminator="\n")


def read_qrels(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_csv(path, sep=" ", header=None, names=["qid", "iter", "docid", "grade"],
                       dtype={"qid": "int64", "docid": str, "grade": "int64"})


def write_tsv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, lineterminator="\n")


def read_queries(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"qid": "int64", "query": str},
                       keep_default_na=False)


def read_candidates(path: str | os.PathLike) -> dict[int, set[str]] | None:
    """qid -> candidate docids (task1-rerank), or None when the file lists none."""
    cands = pd.read_csv(path, sep="\t", dtype={"qid": "int64", "docid": str})
    if cands.empty:
        return None
    return {qid: set(g["docid"]) for qid, g in cands.groupby("qid")}
