"""Run-to-run approaches: fusion of several runs, cross-encoder reranking of one run."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .. import trec
from ..files import atomic_outputs
from .corpus import read_query_texts

log = logging.getLogger("shopbench")


def write_run(qids, ranked, scores, latency, tag, run_out, latency_out):
    """A run and its per-query latency (every query)."""
    with atomic_outputs(run_out, latency_out) as (run_tmp, latency_tmp):
        trec.write_run(trec.run_frame(list(qids), ranked, scores, tag), run_tmp)
        trec.write_tsv(pd.DataFrame({"qid": list(qids), "seconds": latency}), latency_tmp)


def fusion(runs: list[str], run_out: str, latency_out: str, *, approach: str, k: int,
           depth: int, method: str = "rrf", weights: list[float] | None = None,
           normalization: str = "min-max", ties: str = "docid",
           size: int | None = None) -> None:
    """Fuse the runs query by query, keeping each query's best ``size`` (None: the union); a
    query's latency is its own fusion time."""
    from .. import fusion as F

    frames = [trec.read_run(r) for r in runs]
    qids, ranked, scores, seconds = F.fuse(frames, method, k, depth, weights, normalization,
                                           ties, size)
    write_run(qids, ranked, scores, seconds, approach, run_out, latency_out)


def rerank(run: str, corpus: str, queries: str, run_out: str, latency_out: str, *,
           approach: str, path: str, model: str, max_length: int | None,
           batch_size: int | str, depth: int, device: str, threads: int = 1, shard: int = 0,
           shards: int = 1, normalized: str | None = None, precision: str = "fp32",
           weights: str | None = None) -> None:
    """Rerank the queries of query shard ``shard`` of ``shards`` (all of them by default);
    with ``normalized`` the cross-encoder reads the normalized queries."""
    from .. import models
    from .. import rerank as R
    from .. import shards as S
    from ..progress import Progress

    models.set_threads(threads)
    corp = pd.read_parquet(corpus, columns=["docid", "text"])
    frame, _ = read_query_texts(queries, normalized)
    ranked_in = trec.read_run(run)
    if shards > 1:
        qids = np.unique(ranked_in["qid"].to_numpy())
        start, stop = S.shard_bounds(len(qids), shard, shards)
        ranked_in = ranked_in[ranked_in["qid"].isin(qids[start:stop])]
        log.info("query shard %d of %d: %d of %d queries", shard, shards, stop - start,
                 len(qids))
    ce = models.load_cross_encoder(weights or path, model, device, max_length, precision)
    batch_size = models.resolve_batch_size(batch_size, models.pick_device(device))
    log.info("%s: batch size %d, %s, %d torch thread(s)", model, batch_size, precision,
             threads)
    pairs = int(ranked_in.groupby("qid")["docid"].size().clip(upper=depth).sum())
    progress = Progress(pairs, f"rerank {approach}", "pairs")
    qids, ranked, scores, latency = R.rerank(
        ce, ranked_in, dict(zip(frame["qid"], frame["query"])),
        dict(zip(corp["docid"], corp["text"])), depth, batch_size, progress.update)
    progress.finish()
    write_run(qids, ranked, scores, latency, approach, run_out, latency_out)


def merge_rerank(runs: list[str], latency: list[str], run_out: str, latency_out: str) -> None:
    """Join the query shards of a run and of its latency table (in shard order)."""
    from .. import shards as S

    S.concat_files(runs, run_out)
    S.concat_files(latency, latency_out, header=True)
