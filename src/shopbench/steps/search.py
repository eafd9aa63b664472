"""First-stage search through the retrieval interface (shopbench.backends), every protocol alike.

Every query is searched in one batch (how the run is made); then ``latency_queries`` of them
(all when there are fewer; spread evenly by qid) are searched again one at a time, and each
one's seconds, with its query encoding or normalization, make the approach's latency. With
candidates (task1-rerank) each query ranks only its own candidates.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import backends, trec
from ..errors import ShopbenchError
from ..files import atomic_outputs, write_text_atomic
from .corpus import read_query_texts
from .index import DROPPED_LETTERS

log = logging.getLogger("shopbench")


def latency_rows(n: int, size: int) -> np.ndarray:
    """Positions of the ``size`` queries (of ``n``) timed one at a time, spread evenly."""
    if size >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


def candidate_positions(candidates: str | None, qids, docids: np.ndarray):
    """Each query's candidates as sorted corpus positions (task1-rerank), or None."""
    cands = trec.read_candidates(candidates) if candidates else None
    if cands is None:
        return None
    pos = {d: i for i, d in enumerate(docids)}
    return [np.array(sorted(pos[d] for d in cands.get(q, ())), dtype=np.int64) for q in qids]


def run_queries(index, queries: list, k: int, rank_candidates, cands, latency_queries: int,
                prepare=lambda q: q):
    """Every query's (positions, scores) from one batch search (or ranked candidates), and
    the search seconds of the sampled queries, one at a time (``prepare``: e.g. analysis)."""
    start = time.perf_counter()
    prepared = [prepare(q) for q in queries]
    if cands is None:
        results = index.batch_search(prepared, k)
    else:
        results = [rank_candidates(q, c) for q, c in zip(prepared, cands)]
    batched = time.perf_counter() - start
    sample = latency_rows(len(queries), latency_queries)
    seconds = []
    for i in sample:
        t = time.perf_counter()
        q = prepare(queries[i])
        index.search(q, k) if cands is None else rank_candidates(q, cands[i])
        seconds.append(time.perf_counter() - t)
    log.info("%d queries over %d products in %.2f s batched (%.0f queries/s); %d timed one "
             "at a time: median %.2f ms", len(queries), index.n_docs, batched,
             len(queries) / max(batched, 1e-9), len(sample),
             1000 * float(np.median(seconds)) if seconds else float("nan"))
    return results, sample, np.asarray(seconds)


def write_run(qids, results, docids, sample, latency, approach, run_out, latency_out):
    qids = list(qids)
    ranked = [docids[pos].tolist() for pos, _ in results]
    with atomic_outputs(run_out, latency_out) as (run_tmp, latency_tmp):
        trec.write_run(trec.run_frame(qids, ranked, [s for _, s in results], approach), run_tmp)
        trec.write_tsv(pd.DataFrame({"qid": [qids[i] for i in sample],
                                     "seconds": list(latency)}), latency_tmp)


def dense(index: str, query_embeddings: str, query_seconds: str, corpus: str, queries: str,
          run_out: str, latency_out: str, *, approach: str, k: int, backend: str = "flat",
          ef_search: int | None = None, threads: int = 1, latency_queries: int = 1000,
          candidates: str | None = None) -> None:
    """Search the model's index with the query embeddings of encode_queries: no model."""
    import faiss

    from ..trec import top_k

    faiss.omp_set_num_threads(int(threads))
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    frame = trec.read_queries(queries)
    qemb = np.load(query_embeddings)
    encoded = pd.read_csv(query_seconds, sep="\t", dtype={"qid": "int64"})
    if encoded["qid"].tolist() != frame["qid"].tolist() or len(qemb) != len(frame):
        raise ShopbenchError(f"{query_embeddings} does not hold the queries of {queries} in "
                             f"order; delete it and rerun")
    searcher = backends.get(backend).load(index, docids, ef_search=ef_search)

    def rank_candidates(qvec, positions):
        order, top = top_k(searcher.score(qvec, positions), docids[positions], k)
        return positions[order], top

    results, sample, seconds = run_queries(searcher, list(qemb), k, rank_candidates,
                                           candidate_positions(candidates, frame["qid"],
                                                               docids), latency_queries)
    latency = encoded["seconds"].to_numpy()[sample] + seconds
    write_run(frame["qid"], results, docids, sample, latency, approach, run_out, latency_out)


def bm25(index: str, corpus: str, queries: str, run_out: str, latency_out: str,
         analysis_out: str, *, approach: str, k: int, backend: str, analyzer="notebook",
         pad_zero_scores: bool = False, ties: str = "docid", fields: dict | None = None,
         latency_queries: int = 1000, normalized: str | None = None,
         candidates: str | None = None) -> None:
    """BM25 through the approach's index (its backend, analyzer, k1, b and fields; field
    weights apply here). Queries and products the analyzer leaves without a token are
    counted, logged as a warning and written to ``analysis_out`` for provenance.json."""
    from .. import analyzers
    from .. import bm25 as B

    analyze, label = analyzers.make(analyzer), analyzers.describe(analyzer)
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    frame, norm_seconds = read_query_texts(queries, normalized)
    searcher = backends.get(backend).load(index, docids, weights=fields, ties=ties,
                                          pad_zero_scores=pad_zero_scores)

    def rank_candidates(tokens, positions):
        return B.rank(searcher.score(tokens, positions), docids, k, ties, pad_zero_scores,
                      positions)

    texts = frame["query"].tolist()
    results, sample, seconds = run_queries(searcher, texts, k, rank_candidates,
                                           candidate_positions(candidates, frame["qid"],
                                                               docids),
                                           latency_queries, prepare=analyze)
    empty = sum(1 for pos, _ in results if not len(pos))
    log.info("bm25 %s (%s): %d of %d queries match no product%s", approach, label, empty,
             len(results), " (padded with zero scores)" if pad_zero_scores else "")
    write_run(frame["qid"], results, docids, sample, norm_seconds[sample] + seconds, approach,
              run_out, latency_out)
    info = B.index_info(index)["empty_products"]
    titles = pd.read_parquet(corpus, columns=["title"])["title"].to_numpy()
    report = {"approach": approach, "analyzer": label,
              "queries": analyzers.empty_report(texts, map(analyze, texts), frame["qid"]),
              "products": {"count": int(info["count"]),
                           "examples": [{"id": str(docids[p]), "text": str(titles[p])[:80]}
                                        for p in info["positions"]]}}
    if analyzers.drops_letters(analyzer):
        report["queries"]["dropped_letters"] = analyzers.dropped_report(texts, analyze,
                                                                        frame["qid"])
        report["products"]["dropped_letters"] = json.loads(
            (Path(index) / DROPPED_LETTERS).read_text(encoding="utf-8"))
    warn_empty_tokens(report, len(texts), len(docids))
    write_text_atomic(analysis_out, json.dumps(report, indent=2, sort_keys=True) + "\n")


def warn_empty_tokens(report: dict, n_queries: int, n_products: int) -> None:
    """Complete an analyzer report (``of``: how many texts there were) and log a warning for
    the queries and products its analyzer left without a token."""
    for what, n_all in (("queries", n_queries), ("products", n_products)):
        rep = report[what]
        rep["of"] = n_all
        if rep["count"]:
            log.warning("analyzer %s leaves %d of %d %s with no token, e.g. %s",
                        report["analyzer"], rep["count"], n_all, what,
                        "; ".join(f"{e['id']}: {e['text']!r}" for e in rep["examples"]))
        dropped = rep.get("dropped_letters", {"count": 0})
        if dropped["count"]:
            log.warning(
                "analyzer %s drops the non-ASCII letters of %d of %d %s (it keeps [a-z0-9] "
                "only), e.g. %s; an analyzer that keeps them: unicode, english, spanish or "
                "japanese", report["analyzer"], dropped["count"], n_all, what,
                "; ".join(f"{e['id']}: {e['text']!r} -> {e['tokens']} (drops "
                          f"{e['dropped']})" for e in dropped["examples"][:3]))
