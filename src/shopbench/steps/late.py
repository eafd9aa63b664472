"""Late interaction (shopbench.late): a corpus' token vectors once per model (sharded like
product embeddings), a seed's query token vectors (one query at a time, timed), the token
candidate index, and the two approaches on top: late-rerank and late-interaction search.

Reranking and search load no model: the query token vectors come from encode_query_tokens,
and each query's latency is its encoding plus its MaxSim scoring (or search).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from .. import late, trec
from ..errors import ShopbenchError
from ..files import atomic_outputs, atomic_path
from .encode import product_texts
from .runs import write_run as write_run_file
from .search import candidate_positions, run_queries, write_run

log = logging.getLogger("shopbench")


def _model(path, name, device, max_length, precision, threads, stand_in, batch_size=1):
    from .. import models

    models.set_threads(threads)
    model = late.load_late_interaction(path, name, device, max_length, precision, stand_in)
    batch_size = models.resolve_batch_size(batch_size, models.pick_device(device))
    log.info("%s: %s; batch size %d, %s, %d torch thread(s)", name, late.describe(model),
             batch_size, precision, threads)
    return model, batch_size


def encode_tokens(corpus: str, *, path: str, model: str, batch_size: int | str,
                  max_length: int | None, device: str, precision: str = "fp32",
                  stand_in: bool = False, threads: int = 1, shard: int = 0, shards: int = 1,
                  weights: str | None = None, tokens_out: str | None = None,
                  lengths_out: str | None = None, part_out: str | None = None) -> None:
    """Every product's token vectors, float16, in corpus order (``shards == 1``), or shard
    ``shard`` of the batch plan (shopbench.shards) as a part (.npz: rows, lengths, vectors),
    so that merged parts equal the unsharded files."""
    from .. import shards as S
    from ..progress import Progress

    text, lengths = product_texts(corpus)
    encoder, batch_size = _model(weights or path, model, device, max_length, precision, threads,
                                 stand_in, batch_size)
    plan = S.batch_plan(lengths, batch_size)
    start, stop = S.shard_bounds(len(plan), shard, shards)
    batches = plan[start:stop]
    log.info("encoding the tokens of %d of %d products (batches %d-%d of %d)",
             sum(len(b) for b in batches), len(text), start, stop - 1, len(plan))
    progress = Progress(sum(len(b) for b in batches), f"encode tokens {model}", "products")
    vectors: dict[int, np.ndarray] = {}
    for rows_b in batches:
        for row, vec in zip(rows_b, late.encode_documents(encoder, text.take(rows_b).to_pylist(),
                                                          batch_size)):
            vectors[int(row)] = vec.astype(np.float16)
        progress.update(len(rows_b))
    progress.finish()
    if shards == 1:
        late.write_tokens([vectors[i] for i in range(len(text))], tokens_out, lengths_out)
        log.info("%d token vectors (%.1f per product)", sum(len(v) for v in vectors.values()),
                 np.mean([len(v) for v in vectors.values()]) if vectors else 0.0)
        return
    rows = np.array(sorted(vectors), dtype=np.int64)
    dim = encoder.get_embedding_dimension() or 0
    flat = (np.concatenate([vectors[r] for r in rows]) if len(rows)
            else np.zeros((0, dim), dtype=np.float16))
    with atomic_path(part_out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, rows=rows, lengths=np.array([len(vectors[r]) for r in rows],
                                                     dtype=np.int64), vectors=flat)


def merge_tokens(parts: list[str], tokens_out: str, lengths_out: str) -> None:
    """The corpus token files from the parts of encode_tokens."""
    pieces: dict[int, np.ndarray] = {}
    for path in parts:
        with np.load(path) as part:
            rows, lengths, flat = part["rows"], part["lengths"], part["vectors"]
        offsets = late.offsets_of(lengths)
        for i, row in enumerate(rows):
            if int(row) in pieces:
                raise ShopbenchError("token shards cover a product twice; delete the shard "
                                     "files and rerun")
            pieces[int(row)] = flat[offsets[i]:offsets[i + 1]]
    if sorted(pieces) != list(range(len(pieces))):
        raise ShopbenchError("token shards do not cover every corpus row; delete the shard "
                             "files and rerun")
    late.write_tokens([pieces[i] for i in range(len(pieces))], tokens_out, lengths_out)
    log.info("merged %d shards: %d products", len(parts), len(pieces))


def encode_query_tokens(queries: str, tokens_out: str, seconds_out: str, *, path: str,
                        model: str, max_length: int | None, device: str,
                        precision: str = "fp32", stand_in: bool = False, threads: int = 1,
                        normalized: str | None = None, weights: str | None = None) -> None:
    """A seed's query token vectors (queries-file order) and each query's seconds: its
    encoding one query at a time, plus its normalization's (with ``normalized``)."""
    from .corpus import read_query_texts

    frame, norm_seconds = read_query_texts(queries, normalized)
    encoder, _ = _model(weights or path, model, device, max_length, precision, threads,
                        stand_in)
    vecs, seconds = late.encode_queries(encoder, frame["query"].tolist())
    log.info("encoded %d queries one at a time: median %.1f ms", len(frame),
             1000 * float(np.median(seconds)) if seconds else float("nan"))
    with atomic_outputs(tokens_out, seconds_out) as (t_tmp, s_tmp):
        with open(t_tmp, "wb") as handle:
            late.save_query_tokens(handle, frame["qid"], vecs)
        trec.write_tsv(pd.DataFrame({"qid": frame["qid"].tolist(),
                                     "seconds": np.asarray(seconds) + norm_seconds}), s_tmp)


def _query_tokens(query_tokens: str, query_seconds: str, queries: str):
    frame = trec.read_queries(queries)
    qids, vecs = late.load_query_tokens(query_tokens)
    encoded = pd.read_csv(query_seconds, sep="\t", dtype={"qid": "int64"})
    if qids.tolist() != frame["qid"].tolist() or encoded["qid"].tolist() != frame["qid"].tolist():
        raise ShopbenchError(f"{query_tokens} does not hold the queries of {queries} in order; "
                             f"delete it and rerun")
    return frame, vecs, encoded["seconds"].to_numpy()


def token_index(tokens: str, index_out: str, *, nlist: int | None = None,
                threads: int = 1) -> None:
    """The IVF candidate index over a corpus' token vectors (shopbench.backends.maxsim)."""
    import faiss

    from ..backends import maxsim

    faiss.omp_set_num_threads(int(threads))
    start = time.perf_counter()
    maxsim.build(tokens, index_out, nlist=nlist)
    log.info("token index of %s in %.1f s", tokens, time.perf_counter() - start)


def late_rerank(run: str, corpus: str, queries: str, tokens: str, lengths: str,
                query_tokens: str, query_seconds: str, run_out: str, latency_out: str, *,
                approach: str, depth: int) -> None:
    """MaxSim rescoring of each query's top ``depth`` of ``run``; a query's latency is its
    encoding plus its scoring."""
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    position = {d: i for i, d in enumerate(docids)}
    frame, vecs, enc_seconds = _query_tokens(query_tokens, query_seconds, queries)
    matrix, offsets = late.read_tokens(tokens, lengths)
    if len(offsets) - 1 != len(docids):
        raise ShopbenchError(f"{tokens} covers {len(offsets) - 1} products, the corpus "
                             f"{len(docids)}; delete it and rerun")
    ranked_in = trec.read_run(run)
    by_qid = dict(zip(frame["qid"], range(len(frame))))
    qids, ranked, scores, latency = [], [], [], []
    for qid, group in ranked_in.groupby("qid", sort=True):
        docs = group.sort_values("rank").head(depth)["docid"].to_numpy()
        i = by_qid[qid]
        start = time.perf_counter()
        sc = late.maxsim(vecs[i], matrix, offsets, np.array([position[d] for d in docs],
                                                            dtype=np.int64))
        order, top = trec.top_k(sc.astype(np.float64), docs, len(docs))
        latency.append(enc_seconds[i] + time.perf_counter() - start)
        qids.append(qid)
        ranked.append(docs[order].tolist())
        scores.append(top)
    log.info("late-rerank %s: %d queries, depth %d, median %.2f ms a query", approach,
             len(qids), depth, 1000 * float(np.median(latency)) if latency else float("nan"))
    write_run_file(qids, ranked, scores, latency, approach, run_out, latency_out)


def late_search(corpus: str, queries: str, tokens: str, lengths: str, query_tokens: str,
                query_seconds: str, run_out: str, latency_out: str, *, approach: str, k: int,
                search: str = "exact", nprobe: int = 32, token_k: int = 64,
                index: str | None = None, threads: int = 1, latency_queries: int = 1000,
                candidates: str | None = None) -> None:
    """Late-interaction retrieval over the corpus' token vectors: exact MaxSim over every
    product, or over the IVF index's candidates (``search: ivf``)."""
    from ..backends import maxsim

    if search == "ivf":
        import faiss

        faiss.omp_set_num_threads(int(threads))
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    frame, vecs, enc_seconds = _query_tokens(query_tokens, query_seconds, queries)
    searcher = maxsim.load(index if search == "ivf" else None, docids, tokens=tokens,
                           lengths=lengths, nprobe=nprobe, token_k=token_k)

    def rank_candidates(qvec, positions):
        order, top = trec.top_k(searcher.score(qvec, positions), docids[positions], k)
        return positions[order], top

    results, sample, seconds = run_queries(
        searcher, vecs, k, rank_candidates,
        candidate_positions(candidates, frame["qid"], docids), latency_queries)
    write_run(frame["qid"], results, docids, sample, enc_seconds[sample] + seconds, approach,
              run_out, latency_out)
