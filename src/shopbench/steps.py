"""File-to-file steps, one per workflow rule. Rules call these through thin scripts.

Every value a step's output depends on arrives as an argument (the rule's input or params),
never from a global config. Outputs are written atomically.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from . import data as D
from . import text as T
from . import trec
from .errors import ShopbenchError
from .files import atomic_outputs, atomic_path, write_frame, write_text_atomic

log = logging.getLogger("shopbench")


# -- data -----------------------------------------------------------------------------------
def sample(examples: str, qrels_out: str, queries_out: str, sample_out: str, *, seed: int,
           locale: str, labels: list[str], n_queries: int | str, n_rows: int,
           on_too_few_queries: str, protocol: str, split: str = "all",
           version: str = "all") -> None:
    """Filter and sample (notebook), then write the sample, its queries and the qrels.

    ``seed`` protocol: qrels are the sampled rows. Other protocols: every judgment of the
    sampled queries (E, S, C and I), graded. ``catalogue``: queries drawn from those of the
    split and version (``n_rows`` unused); the sample is every judgment of those queries.
    """
    ex = D.filter_split_version(D.read_examples(examples), split, version, examples)
    filtered = D.filter_examples(ex, locale, labels)
    if protocol == "catalogue":
        qids = D.sample_queries(filtered, n_queries, seed, on_too_few_queries)
        rows = D.judgments_for(ex, qids, locale)
        log.info("seed %d: %d of %d queries (split %s, version %s), %d judgments", seed,
                 len(qids), filtered["query_id"].nunique(), split, version, len(rows))
        with atomic_outputs(sample_out, queries_out, qrels_out) as (s_tmp, q_tmp, r_tmp):
            write_frame(rows.reset_index(drop=True), s_tmp)
            trec.write_tsv(D.queries_of(rows).sort_values("qid"), q_tmp)
            trec.write_qrels(D.qrels_frame(rows), r_tmp)
        return
    rows = D.sample_examples(filtered, n_queries, n_rows, seed, on_too_few_queries)
    log.info("seed %d: %d filtered rows, sample %d rows, %d queries, %d products", seed,
             len(filtered), len(rows), rows["query_id"].nunique(), rows["product_id"].nunique())
    if n_queries != "all" and rows["query_id"].nunique() < n_queries:
        log.warning("seed %d: only %d of the %d queries asked for (sampling.n_queries) are "
                    "evaluated: the notebook's sampling draws sampling.n_rows = %d rows from "
                    "those queries' rows, and a query none of whose rows is drawn drops out "
                    "(raise n_rows to keep more)", seed, rows["query_id"].nunique(), n_queries,
                    n_rows)
    queries = D.queries_of(rows)
    judged = rows if protocol == "seed" else D.judgments_for(ex, queries["qid"], locale)
    with atomic_outputs(sample_out, queries_out, qrels_out) as (s_tmp, q_tmp, r_tmp):
        write_frame(rows.reset_index(drop=True), s_tmp)
        trec.write_tsv(queries.sort_values("qid"), q_tmp)
        trec.write_qrels(D.qrels_frame(judged), r_tmp)


# -- text -----------------------------------------------------------------------------------
def corpus(examples: str, products: str, sample_file: str, corpus_out: str,
           candidates_out: str, *, seed: int, protocol: str, fields: list[str], locale: str,
           distractors: int) -> None:
    """The corpus (docid, title, text) the protocol searches, and task1 candidates."""
    rows = pd.read_parquet(sample_file)
    prods = D.read_products(products, fields)
    judged = rows
    if protocol != "seed":
        ex = D.read_examples(examples)
        judged = D.judgments_for(ex, rows["query_id"].unique(), locale)
    keys = T.corpus_keys(protocol, rows, judged)
    if protocol == "judged-pool" and distractors:
        keys = pd.concat([keys, T.draw_distractors(prods, keys, locale, distractors, seed)],
                         ignore_index=True)
    corp = T.build_corpus(keys, prods, fields)
    log.info("corpus: %d products (%s protocol)", len(corp), protocol)
    with atomic_outputs(corpus_out, candidates_out) as (c_tmp, k_tmp):
        write_frame(corp, c_tmp)
        trec.write_tsv(T.candidates_frame(protocol, judged, corp), k_tmp)


# -- index ----------------------------------------------------------------------------------
def encode(corpus_file: str, queries_file: str, *, path: str, name: str,
           document_prefix: str, query_prefix: str, batch_size: int, max_length: int,
           device: str, threads: int = 1, shard: int = 0, shards: int = 1,
           embeddings_out: str | None = None, queries_out: str | None = None,
           seconds_out: str | None = None, part_out: str | None = None) -> None:
    """Encode the corpus (in the batches of shopbench.shards.batch_plan) and the queries.

    Queries are encoded one at a time, as at serving time, and each one's seconds recorded: the
    encoding part of the dense approaches' latency. ``shards == 1``: writes the corpus-ordered
    matrix (``embeddings_out``, .npy), the queries-file-ordered matrix (``queries_out``, .npy)
    and the seconds (``seconds_out``, qid/seconds TSV). Otherwise writes part ``shard``
    (``part_out``, .npz) for merge_embeddings.
    """
    from . import dense, models
    from . import shards as S

    models.set_threads(threads)
    texts = pd.read_parquet(corpus_file, columns=["text"])["text"].tolist()
    queries = trec.read_queries(queries_file)
    model = models.load_bi_encoder(path, name, device, max_length)
    rows, emb = S.encode_part(lambda batch: dense.encode(model, batch, document_prefix,
                                                         batch_size),
                              texts, batch_size, shard, shards)
    log.info("encoded %d of %d products with %s: %s", len(rows), len(texts), name, emb.shape)
    start, stop = S.shard_bounds(len(queries), shard, shards)
    qemb, seconds = dense.encode_queries(model, queries["query"].iloc[start:stop].tolist(),
                                         query_prefix)
    log.info("encoded queries %d-%d of %d, one at a time: median %.1f ms", start, stop - 1,
             len(queries), 1000 * float(np.median(seconds)) if seconds else float("nan"))
    if shards == 1:
        _write_embeddings(S.assemble([(rows, emb)]), qemb, queries["qid"], seconds,
                          embeddings_out, queries_out, seconds_out)
    else:
        S.save_part(part_out, rows=rows, embeddings=emb,
                    query_rows=np.arange(start, stop, dtype=np.int64), query_embeddings=qemb,
                    query_seconds=np.asarray(seconds, dtype=np.float64))


def encode_products(corpus_file: str, *, path: str, name: str, document_prefix: str,
                    batch_size: int, max_length: int, device: str, dtype: str = "float32",
                    threads: int = 1, shard: int = 0, shards: int = 1,
                    embeddings_out: str | None = None, part_out: str | None = None) -> None:
    """catalogue protocol: a model's product embeddings (or shard ``shard`` of them), once per
    experiment; see shopbench.catalogue.encode_products."""
    from . import catalogue, dense, models

    models.set_threads(threads)
    model = models.load_bi_encoder(path, name, device, max_length)
    catalogue.encode_products(
        lambda batch: dense.encode(model, batch, document_prefix, batch_size), corpus_file,
        batch_size=batch_size, shard=shard, shards=shards, dtype=dtype,
        embeddings_out=embeddings_out, part_out=part_out)


def encode_queries(queries_file: str, queries_out: str, seconds_out: str, *, path: str,
                   name: str, query_prefix: str, max_length: int, device: str,
                   threads: int = 1) -> None:
    """catalogue protocol: a seed's query embeddings, one query at a time (timed)."""
    from . import catalogue, dense, models

    models.set_threads(threads)
    model = models.load_bi_encoder(path, name, device, max_length)
    catalogue.encode_queries(lambda queries: dense.encode_queries(model, queries, query_prefix),
                             queries_file, queries_out, seconds_out)


def _write_embeddings(emb, qemb, qids, seconds, embeddings_out, queries_out, seconds_out):
    with atomic_outputs(embeddings_out, queries_out, seconds_out) as (e_tmp, q_tmp, s_tmp):
        np.save(e_tmp, emb)
        np.save(q_tmp, qemb)
        trec.write_tsv(pd.DataFrame({"qid": list(qids), "seconds": list(seconds)}), s_tmp)


def merge_embeddings(part_files: list[str], queries_file: str, embeddings_out: str,
                     queries_out: str, seconds_out: str) -> None:
    """The corpus and query matrices (and query seconds) from the parts of encode(shards > 1)."""
    from . import shards as S

    parts = [S.load_part(p) for p in part_files]
    emb = S.assemble([(p["rows"], p["embeddings"]) for p in parts])
    qemb = S.assemble([(p["query_rows"], p["query_embeddings"]) for p in parts],
                      "query embedding")
    seconds = S.assemble([(p["query_rows"], p["query_seconds"]) for p in parts],
                         "query seconds")
    qids = trec.read_queries(queries_file)["qid"]
    if len(qids) != len(qemb):
        raise ShopbenchError(f"{len(qemb)} query embeddings in the shards for {len(qids)} "
                             f"queries in {queries_file}; delete the shard files and rerun")
    log.info("merged %d shards: %s corpus, %s queries", len(part_files), emb.shape, qemb.shape)
    _write_embeddings(emb, qemb, qids, seconds.tolist(), embeddings_out, queries_out,
                      seconds_out)


def index(embeddings_file: str, index_out: str, *, index: str = "flat",
          hnsw_m: int | None = None, ef_construction: int | None = None) -> None:
    """The FAISS index of a model's embeddings: ``flat`` (exact) or ``hnsw``."""
    import faiss

    from . import dense

    hnsw = {"hnsw_m": hnsw_m, "ef_construction": ef_construction} if index == "hnsw" else {}
    idx = dense.build_index(np.load(embeddings_file), index, **hnsw)
    with atomic_path(index_out) as tmp:
        faiss.write_index(idx, str(tmp))


# -- retrieve -------------------------------------------------------------------------------
def _queries_and_candidates(queries_file: str, candidates_file: str, docids: np.ndarray):
    queries = trec.read_queries(queries_file)
    cands = trec.read_candidates(candidates_file)
    if cands is None:
        return queries, None
    pos = {d: i for i, d in enumerate(docids)}
    per_query = [np.array(sorted(pos[d] for d in cands.get(q, ())), dtype=np.int64)
                 for q in queries["qid"]]
    return queries, per_query


def _write_outputs(qids, ranked, scores, latency, tag, run_out, latency_out):
    with atomic_outputs(run_out, latency_out) as (run_tmp, latency_tmp):
        trec.write_run(trec.run_frame(list(qids), ranked, scores, tag), run_tmp)
        trec.write_tsv(pd.DataFrame({"qid": list(qids), "seconds": latency}), latency_tmp)


def dense_run(index_file: str, embeddings_file: str, query_embeddings_file: str,
              query_seconds_file: str, corpus_file: str, queries_file: str,
              candidates_file: str, run_out: str, latency_out: str, *, approach: str, k: int,
              threads: int = 1, ef_search: int | None = None) -> None:
    """Search the index with the query embeddings of the encode step: no model, no torch.

    A query's latency is its encoding seconds (encode step) plus its search seconds.
    """
    import faiss

    from . import dense

    faiss.omp_set_num_threads(int(threads))
    docids = pd.read_parquet(corpus_file, columns=["docid"])["docid"].to_numpy()
    queries, cands = _queries_and_candidates(queries_file, candidates_file, docids)
    qemb = np.load(query_embeddings_file)
    encoded = pd.read_csv(query_seconds_file, sep="\t", dtype={"qid": "int64"})
    if encoded["qid"].tolist() != queries["qid"].tolist() or len(qemb) != len(queries):
        raise ShopbenchError(f"{query_embeddings_file} does not hold the queries of "
                             f"{queries_file} in order; delete it and rerun")
    emb = np.load(embeddings_file) if cands is not None else None
    index = faiss.read_index(index_file) if cands is None else None
    ranked, scores, search_seconds = dense.search(index, docids, qemb, k, cands, emb, ef_search)
    latency = (encoded["seconds"].to_numpy() + np.asarray(search_seconds)).tolist()
    _write_outputs(queries["qid"], ranked, scores, latency, approach, run_out, latency_out)


def bm25_run(corpus_file: str, queries_file: str, candidates_file: str, run_out: str,
             latency_out: str, *, approach: str, k: int, k1: float, b: float,
             backend: str) -> None:
    from . import bm25

    corp = pd.read_parquet(corpus_file, columns=["docid", "text"])
    docids = corp["docid"].to_numpy()
    queries, cands = _queries_and_candidates(queries_file, candidates_file, docids)
    # The Series, not a list: bm25s then never holds every text as a Python string at once.
    scorer = bm25.BM25Scorer(corp["text"], k1=k1, b=b, backend=backend)
    ranked, scores, latency = bm25.search(scorer, docids, queries["query"].tolist(), k, cands)
    _write_outputs(queries["qid"], ranked, scores, latency, approach, run_out, latency_out)


def fusion_run(runs: list[str], run_out: str, latency_out: str, *, approach: str, k: int,
               depth: int) -> None:
    import time

    from . import fusion

    frames = [trec.read_run(r) for r in runs]
    start = time.perf_counter()
    qids, ranked, scores = fusion.rrf(frames, k=k, depth=depth)
    per_query = (time.perf_counter() - start) / max(1, len(qids))
    _write_outputs(qids, ranked, scores, [per_query] * len(qids), approach, run_out,
                   latency_out)


def rerank_run(run_file: str, corpus_file: str, queries_file: str, run_out: str,
               latency_out: str, *, approach: str, path: str, model: str, max_length: int,
               batch_size: int, depth: int, device: str, threads: int = 1, shard: int = 0,
               shards: int = 1) -> None:
    """Rerank the queries of query shard ``shard`` of ``shards`` (all of them by default)."""
    from . import models, rerank
    from . import shards as S

    models.set_threads(threads)
    corp = pd.read_parquet(corpus_file, columns=["docid", "text"])
    queries = trec.read_queries(queries_file)
    run = trec.read_run(run_file)
    if shards > 1:
        qids = np.unique(run["qid"].to_numpy())
        start, stop = S.shard_bounds(len(qids), shard, shards)
        run = run[run["qid"].isin(qids[start:stop])]
        log.info("query shard %d of %d: %d of %d queries", shard, shards, stop - start,
                 len(qids))
    ce = models.load_cross_encoder(path, model, device, max_length)
    qids, ranked, scores, latency = rerank.rerank(
        ce, run, dict(zip(queries["qid"], queries["query"])),
        dict(zip(corp["docid"], corp["text"])), depth, batch_size)
    _write_outputs(qids, ranked, scores, latency, approach, run_out, latency_out)


def merge_runs(run_files: list[str], latency_files: list[str], run_out: str,
               latency_out: str) -> None:
    """Join the query shards of a run and of its latency table (in shard order)."""
    from . import shards as S

    S.concat_files(run_files, run_out)
    S.concat_files(latency_files, latency_out, header=True)


# -- evaluate -------------------------------------------------------------------------------
def evaluate(run_file: str, qrels_file: str, queries_file: str, corpus_file: str,
             out: str, *, approach: str, seed: int, hits_k: list[int], gains: dict,
             relevant_labels: list[str]) -> None:
    """Per-query metrics, with the query text and the top-3 titles marked hit or miss."""
    from . import metrics

    run, qrels = trec.read_run(run_file), trec.read_qrels(qrels_file)
    table = metrics.per_query(run, qrels, hits_k, gains, relevant_labels)
    queries = trec.read_queries(queries_file)
    titles = pd.read_parquet(corpus_file, columns=["docid", "title"])
    title = dict(zip(titles["docid"], titles["title"]))
    rel = metrics.relevance_threshold(relevant_labels)
    relevant = set(map(tuple, qrels.loc[qrels["grade"] >= rel, ["qid", "docid"]].to_numpy()))
    top3 = {}
    for qid, group in run[run["rank"] <= 3].groupby("qid"):
        top3[qid] = " | ".join(
            f"{'[HIT]' if (qid, d) in relevant else '[MISS]'} {title.get(d, d)[:60]}"
            for d in group.sort_values("rank")["docid"])
    table.insert(0, "seed", seed)
    table.insert(0, "approach", approach)
    table.insert(3, "query", table["qid"].map(dict(zip(queries["qid"], queries["query"]))))
    table["top3"] = table["qid"].map(top3).fillna("")
    trec.write_tsv(table, out)


def write_json(obj, path: str) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


# -- aggregate and report -------------------------------------------------------------------
def _csv(df: pd.DataFrame, path: str) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", float_format="%.6f")


def aggregate(eval_files: list[str], *, metrics_out: str, summary_out: str, per_query_out: str,
              significance_out: str, worst_out: str, order: list[str], baseline: str,
              bootstrap: int, permutations: int, worst_queries: int) -> None:
    from . import summary as S

    per_query = pd.concat([pd.read_csv(f, sep="\t", keep_default_na=False,
                                       na_values={"first_rel_rank": [""]})
                           for f in eval_files], ignore_index=True)
    per_query = per_query.sort_values(["approach", "seed", "qid"], kind="stable",
                                      key=lambda s: s.map(order.index) if s.name == "approach"
                                      else s)
    S.warn_few_queries(per_query)
    metrics = S.per_seed(per_query, order, bootstrap)
    outs = (metrics_out, summary_out, per_query_out, significance_out, worst_out)
    with atomic_outputs(*outs) as (m_tmp, s_tmp, p_tmp, sig_tmp, w_tmp):
        _csv(metrics, m_tmp)
        _csv(S.across_seeds(metrics, per_query, order, bootstrap), s_tmp)
        _csv(per_query, p_tmp)
        _csv(S.significance(per_query, baseline, order, n_perm=permutations), sig_tmp)
        _csv(S.worst_queries(per_query, worst_queries), w_tmp)


def latency(latency_files: list[str], out: str, *, order: list[str],
            labels: dict[str, list], deps: dict[str, list[str]],
            note: str | None = None) -> None:
    """p50/p95 latency per approach from per-query latency files; ``labels`` maps each file
    to the [seed, approach] it holds (the rule passes it, so no meaning hangs on the order of
    the files).

    ``note`` (catalogue protocol): searches ran batched and only a sample of queries was timed
    one at a time; every approach is then summarized over the queries timed in all of them,
    and the note goes into a ``measured`` column.
    """
    from . import summary as S

    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in order}
    for path in latency_files:
        if str(path) not in labels:
            raise ShopbenchError(f"latency file {path} has no (seed, approach) label")
        seed, name = labels[str(path)]
        if name not in frames:
            raise ShopbenchError(f"latency file {path} is labelled with unknown approach {name}")
        frame = pd.read_csv(path, sep="\t")
        frame.insert(0, "seed", int(seed))
        frames[name].append(frame)
    missing = [name for name, parts in frames.items() if not parts]
    if missing:
        raise ShopbenchError(f"no latency file for approach(es) {', '.join(missing)}")
    joined = {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
    if note is None:
        _csv(S.latency(joined, deps, order), out)
        return
    timed = None
    for frame in joined.values():
        keys = pd.MultiIndex.from_frame(frame[["seed", "qid"]])
        timed = keys if timed is None else timed.intersection(keys)
    joined = {name: frame[pd.MultiIndex.from_frame(frame[["seed", "qid"]]).isin(timed)]
              .reset_index(drop=True) for name, frame in joined.items()}
    table = S.latency(joined, deps, order)
    table["measured"] = note
    _csv(table, out)


def tables(summary_file: str, significance_file: str, metrics_file: str, md_out: str,
           tex_out: str, rst_out: str, *, baseline: str, gains: dict, n_queries: int) -> None:
    """The paper table (Markdown, LaTeX, reST); ``n_queries`` is the number asked for."""
    from . import report

    summary = pd.read_csv(summary_file)
    try:
        sig = pd.read_csv(significance_file)
    except pd.errors.EmptyDataError:
        sig = pd.DataFrame()
    per_seed = pd.read_csv(metrics_file)
    per_seed = per_seed[per_seed["approach"] == per_seed["approach"].iloc[0]]
    n_per_seed = dict(zip(per_seed["seed"].astype(int), per_seed["n_queries"].astype(int)))
    md, tex, rst = report.paper_tables(summary, sig, baseline, gains, n_per_seed=n_per_seed,
                                       n_asked=n_queries)
    with atomic_outputs(md_out, tex_out, rst_out) as (md_tmp, tex_tmp, rst_tmp):
        write_text_atomic(md_tmp, md)
        write_text_atomic(tex_tmp, tex)
        write_text_atomic(rst_tmp, rst)


def plots(summary_file: str, per_query_file: str, latency_file: str, *, metrics_out: str,
          heatmap_out: str, quality_latency_out: str, metric: str, dpi: int) -> None:
    from . import report

    summary = pd.read_csv(summary_file)
    per_query = pd.read_csv(per_query_file, keep_default_na=False,
                            na_values={"first_rel_rank": [""]})
    with atomic_outputs(metrics_out, heatmap_out, quality_latency_out) as (m_tmp, h_tmp, q_tmp):
        report.plot_metrics(summary, m_tmp, dpi)
        report.plot_heatmap(per_query, metric, h_tmp, dpi)
        report.plot_quality_latency(summary, pd.read_csv(latency_file), metric, q_tmp, dpi)
