"""Reciprocal rank fusion (Cormack et al., 2009), as the notebook's hybrid.

score(d) = sum over runs of 1 / (k + rank(d)), rank from 1, over each run's top ``depth``;
ties broken by docid ascending.
"""

from __future__ import annotations

import pandas as pd


def rrf(runs: list[pd.DataFrame], k: int = 60, depth: int = 100) -> tuple[list, list, list]:
    """Fuse run frames (qid, docid, rank); returns qids, ranked docids and scores per query."""
    parts = [r.loc[r["rank"] <= depth, ["qid", "docid", "rank"]] for r in runs]
    allrows = pd.concat(parts, ignore_index=True)
    allrows["rrf"] = 1.0 / (k + allrows["rank"])
    fused = allrows.groupby(["qid", "docid"], as_index=False, sort=False)["rrf"].sum()
    fused = fused.sort_values(["qid", "rrf", "docid"], ascending=[True, False, True])
    qids, docids, scores = [], [], []
    for qid, group in fused.groupby("qid", sort=True):
        qids.append(qid)
        docids.append(group["docid"].tolist())
        scores.append(group["rrf"].to_numpy())
    return qids, docids, scores
