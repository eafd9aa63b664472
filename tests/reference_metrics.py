"""An independent, plain-Python implementation of the evaluation measures, for tests only.

Written from the definitions (and the notebook's eval_ranking), sharing no code with
shopbench.metrics or trec_eval: ranks follow the run file; gains are per label.
"""

import math

GRADE_LABEL = {3: "E", 2: "S", 1: "C", 0: "I"}


def evaluate_query(ranked, judgments, gains, relevant_labels, hits_k=(1, 5, 10)):
    """``ranked``: docids in rank order; ``judgments``: docid -> grade."""
    relevant = {d for d, g in judgments.items() if GRADE_LABEL[g] in relevant_labels}
    ranks = [i for i, d in enumerate(ranked) if d in relevant]  # the notebook's 0-based ranks
    out = {f"hits@{k}": 1.0 if any(r < k for r in ranks) else 0.0 for k in hits_k}
    out["mrr"] = 0.0 if not ranks else 1.0 / (min(ranks) + 1)
    gain = {d: gains[GRADE_LABEL[g]] for d, g in judgments.items()}
    dcg = sum(gain.get(d, 0.0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(gain.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    out["ndcg@10"] = dcg / idcg if idcg > 0 else 0.0
    out["recall@10"] = (len([r for r in ranks if r < 10]) / len(relevant)) if relevant else 0.0
    precisions = [(n + 1) / (r + 1) for n, r in enumerate(ranks)]
    out["map"] = sum(precisions) / len(relevant) if relevant else 0.0
    return out
