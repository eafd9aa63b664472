"""Per-query effectiveness with ir-measures (pytrec_eval, i.e. trec_eval, underneath).

Conventions:
- qrels hold integer grades (E 3, S 2, C 1, I 0). nDCG uses the configured gains per label
  (default E 1.0, S 0.1, C 0.01, I 0 as in the ESCI paper); trec_eval takes integer gains, so
  gains are scaled by a power of ten until integral (nDCG does not change under scaling).
- Binary measures (Hits@k = Success@k, MRR = RR, Recall@k, MAP = AP) count a product as
  relevant when its label is in ``relevant_labels`` (default only E), i.e. grade >= threshold.
- trec_eval re-sorts each query by score and breaks ties by docid descending; runs are handed
  to it with score = -rank so it follows the run file's ranks (ties already broken by docid
  ascending when the run was made).
- A query in the qrels that is missing from the run scores 0 on every measure.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from .data import GRADES
from .errors import ShopbenchError

LABEL_ORDER = ["E", "S", "C", "I"]


def relevance_threshold(relevant_labels: list[str]) -> int:
    """Lowest grade counted relevant; the labels must be a top slice of E > S > C > I."""
    labels = sorted(set(relevant_labels), key=LABEL_ORDER.index)
    if labels != LABEL_ORDER[: len(labels)] or labels == LABEL_ORDER:
        raise ShopbenchError(
            "evaluation.relevant_labels must be [E], [E, S] or [E, S, C] (a top slice of "
            f"E > S > C > I), got {relevant_labels}"
        )
    return min(GRADES[label] for label in labels)


def integer_gains(gains: dict[str, float]) -> dict[int, int]:
    """Grade -> integer gain, the configured gains scaled by the smallest power of ten."""
    for scale in (10**p for p in range(0, 10)):
        scaled = {GRADES[lab]: Fraction(str(g)) * scale for lab, g in gains.items()}
        if all(v.denominator == 1 for v in scaled.values()):
            return {grade: int(v) for grade, v in scaled.items()}
    raise ShopbenchError(f"evaluation.gains {gains} need more than 9 decimal places")


def metric_names(hits_k: list[int]) -> list[str]:
    return [f"hits@{k}" for k in hits_k] + ["mrr", "ndcg@10", "recall@10", "map"]


def _measures(hits_k: list[int], gains: dict[str, float], rel: int) -> dict:
    from ir_measures import AP, RR, R, Success, nDCG

    measures = {f"hits@{k}": Success(rel=rel) @ k for k in hits_k}
    measures["mrr"] = RR(rel=rel)
    measures["ndcg@10"] = nDCG(gains=integer_gains(gains)) @ 10
    measures["recall@10"] = R(rel=rel) @ 10
    measures["map"] = AP(rel=rel)
    return measures


def per_query(run: pd.DataFrame, qrels: pd.DataFrame, hits_k=(1, 5, 10), gains=None,
              relevant_labels=("E",)) -> pd.DataFrame:
    """One row per qrels query: qid and every metric, plus the rank of the first relevant doc."""
    import ir_measures

    gains = gains or {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}
    rel = relevance_threshold(list(relevant_labels))
    measures = _measures(list(hits_k), gains, rel)
    by_measure = {str(m): name for name, m in measures.items()}
    qrels_l = [ir_measures.Qrel(str(q), d, int(g))
               for q, d, g in qrels[["qid", "docid", "grade"]].itertuples(index=False)]
    run_l = [ir_measures.ScoredDoc(str(q), d, -float(r))
             for q, d, r in run[["qid", "docid", "rank"]].itertuples(index=False)]
    qids = sorted(qrels["qid"].unique())
    table = pd.DataFrame(0.0, index=pd.Index(qids, name="qid"), columns=list(measures))
    for m in ir_measures.iter_calc(list(measures.values()), qrels_l, run_l):
        table.loc[int(m.query_id), by_measure[str(m.measure)]] = float(m.value)
    table["first_rel_rank"] = _first_relevant_rank(run, qrels, rel).reindex(table.index)
    return table.reset_index()


def _first_relevant_rank(run: pd.DataFrame, qrels: pd.DataFrame, rel: int) -> pd.Series:
    relevant = qrels.loc[qrels["grade"] >= rel, ["qid", "docid"]]
    hits = run.merge(relevant, on=["qid", "docid"])
    return hits.groupby("qid")["rank"].min().astype("float64")
