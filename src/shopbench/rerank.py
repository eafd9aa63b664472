"""Cross-encoder reranking of the top ``depth`` products of a run."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .trec import top_k


def rerank(model, run: pd.DataFrame, queries: dict[int, str], texts: dict[str, str],
           depth: int = 50, batch_size: int = 32, progress=None):
    """Rescore each query's top ``depth`` docs; returns qids, docids, scores, latency (s).

    ``progress(n)``, when given, is called with the number of pairs after each query.
    """
    qids, ranked, scores, latency = [], [], [], []
    for qid, group in run.groupby("qid", sort=True):
        docs = group.sort_values("rank").head(depth)["docid"].to_numpy()
        start = time.perf_counter()
        pairs = [(queries[qid], texts[d]) for d in docs]
        sc = np.asarray(model.predict(pairs, batch_size=batch_size, show_progress_bar=False,
                                      convert_to_numpy=True), dtype=np.float64).reshape(-1)
        order, top = top_k(sc, docs, len(docs))
        latency.append(time.perf_counter() - start)
        qids.append(qid)
        ranked.append(docs[order].tolist())
        scores.append(top)
        if progress is not None:
            progress(len(docs))
    return qids, ranked, scores, latency
