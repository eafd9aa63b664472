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


def optional(files) -> str | None:
    """The path of an optional rule input (an empty list when absent)."""
    if isinstance(files, str):
        return files
    files = list(files)
    return files[0] if files else None


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


FIELDS = ["product_title", "product_brand", "product_color", "product_bullet_point",
          "product_description"]


def fields(products: str, corpus_file: str, fields_out: str, *, locale: str) -> None:
    """Each product field's text (cleaned as the corpus text), in corpus order: for BM25 field
    weighting and for bi-encoders that embed chosen fields."""
    docids = pd.read_parquet(corpus_file, columns=["docid"])["docid"]
    prods = D.read_products(products, FIELDS)
    frame = write_fields_frame(docids, prods[prods["product_locale"] == locale])
    with atomic_outputs(fields_out) as (tmp,):
        write_frame(frame, tmp)


def write_fields_frame(docids: pd.Series, prods: pd.DataFrame) -> pd.DataFrame:
    keyed = prods.assign(docid=prods["product_id"].astype(str)).drop_duplicates("docid")
    merged = pd.DataFrame({"docid": docids.astype(str)}).merge(keyed, on="docid", how="left")
    out = pd.DataFrame({"docid": merged["docid"]})
    for field in FIELDS:
        out[field] = T.product_text(merged, [field])
    return out


def read_fields(fields_file: str, docids: np.ndarray) -> pd.DataFrame:
    frame = pd.read_parquet(fields_file)
    if frame["docid"].tolist() != list(docids):
        raise ShopbenchError(f"{fields_file} does not hold the corpus products in order; "
                             f"delete it and rerun")
    return frame


def normalize_queries(queries_file: str, corpus_file: str, out: str, *, spec: dict) -> None:
    """The queries after a named normalization: qid, query (normalized), original, changes
    (what each step changed), seconds (per query)."""
    from . import analyzers
    from . import normalize as N

    queries = trec.read_queries(queries_file)
    vocabulary: set[str] = set()
    if "spelling" in spec.get("steps", []):
        for text in pd.read_parquet(corpus_file, columns=["text"])["text"]:
            vocabulary.update(analyzers.unicode_words(text))
    normalizer = N.Normalizer(spec, vocabulary)
    texts, changes, seconds = normalizer.run(queries["query"].tolist())
    frame = pd.DataFrame({"qid": queries["qid"], "query": texts, "original": queries["query"],
                          "changes": changes, "seconds": seconds})
    changed = frame[frame["query"] != frame["original"]]
    log.info("query normalization %s: %d of %d queries changed", spec.get("name"),
             len(changed), len(frame))
    for row in changed.head(20).itertuples():
        log.info("  %s: %r -> %r (%s)", row.qid, row.original, row.query, row.changes)
    trec.write_tsv(frame, out)


def read_normalized(path: str) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"qid": "int64", "query": str, "original": str,
                                              "changes": str}, keep_default_na=False)


# -- index ----------------------------------------------------------------------------------
def encode(corpus_file: str, queries_file: str, *, path: str, name: str,
           document_prefix: str, query_prefix: str, batch_size: int | str, max_length: int,
           device: str, threads: int = 1, shard: int = 0, shards: int = 1,
           precision: str = "fp32",
           embeddings_out: str | None = None, queries_out: str | None = None,
           seconds_out: str | None = None, part_out: str | None = None,
           fields: list[str] | None = None, fields_file: str | None = None) -> None:
    """Encode the corpus (in the batches of shopbench.shards.batch_plan) and the queries.

    Queries are encoded one at a time, as at serving time, and each one's seconds recorded: the
    encoding part of the dense approaches' latency. ``shards == 1``: writes the corpus-ordered
    matrix (``embeddings_out``, .npy), the queries-file-ordered matrix (``queries_out``, .npy)
    and the seconds (``seconds_out``, qid/seconds TSV). Otherwise writes part ``shard``
    (``part_out``, .npz) for merge_embeddings.
    """
    from . import dense, models
    from . import shards as S
    from .progress import Progress

    models.set_threads(threads)
    texts = corpus_texts(corpus_file, fields, fields_file)
    queries = trec.read_queries(queries_file)
    model = models.load_bi_encoder(path, name, device, max_length, precision)
    batch_size = models.resolve_batch_size(batch_size, models.pick_device(device))
    log.info("%s: batch size %d, %s, %d torch thread(s)", name, batch_size, precision,
             threads)
    plan = S.batch_plan(texts, batch_size)
    first, last = S.shard_bounds(len(plan), shard, shards)
    progress = Progress(sum(len(b) for b in plan[first:last]), f"encode {name}", "products")
    rows, emb = S.encode_part(lambda batch: dense.encode(model, batch, document_prefix,
                                                         batch_size),
                              texts, batch_size, shard, shards, progress.update)
    progress.finish()
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


def corpus_texts(corpus_file: str, fields: list[str] | None = None,
                 fields_file: str | None = None) -> list[str]:
    """The texts a bi-encoder embeds: the corpus text, or the model's own ``fields`` joined
    as the corpus text is (e.g. the title only)."""
    corp = pd.read_parquet(corpus_file, columns=["docid", "text"])
    if not fields:
        return corp["text"].tolist()
    frame = read_fields(fields_file, corp["docid"].to_numpy())
    return T.product_text(frame, list(fields)).tolist()


def encode_queries(queries_file: str, normalized_file: str, embeddings_out: str,
                   seconds_out: str, *, path: str, name: str, query_prefix: str,
                   max_length: int, device: str, threads: int = 1) -> None:
    """Query embeddings of a query normalization's texts (one at a time, as in encode); the
    seconds include the normalization's."""
    from . import dense, models

    models.set_threads(threads)
    queries, norm_seconds = read_query_texts(queries_file, normalized_file)
    model = models.load_bi_encoder(path, name, device, max_length)
    qemb, seconds = dense.encode_queries(model, queries["query"].tolist(), query_prefix)
    with atomic_outputs(embeddings_out, seconds_out) as (e_tmp, s_tmp):
        np.save(e_tmp, qemb)
        trec.write_tsv(pd.DataFrame({"qid": queries["qid"],
                                     "seconds": np.asarray(seconds) + norm_seconds}), s_tmp)


def encode_products(corpus_file: str, *, path: str, name: str, document_prefix: str,
                    batch_size: int | str, max_length: int, device: str,
                    precision: str = "fp32", dtype: str = "float32",
                    threads: int = 1, shard: int = 0, shards: int = 1,
                    embeddings_out: str | None = None, part_out: str | None = None) -> None:
    """catalogue protocol: a model's product embeddings (or shard ``shard`` of them), once per
    experiment; see shopbench.catalogue.encode_products."""
    from . import catalogue, dense, models

    models.set_threads(threads)
    model = models.load_bi_encoder(path, name, device, max_length, precision)
    batch_size = models.resolve_batch_size(batch_size, models.pick_device(device))
    log.info("%s: batch size %d, %s, %d torch thread(s)", name, batch_size, precision,
             threads)
    catalogue.encode_products(
        lambda batch: dense.encode(model, batch, document_prefix, batch_size), corpus_file,
        batch_size=batch_size, shard=shard, shards=shards, dtype=dtype,
        embeddings_out=embeddings_out, part_out=part_out)


def encode_catalogue_queries(queries_file: str, queries_out: str, seconds_out: str, *,
                             path: str, name: str, query_prefix: str, max_length: int,
                             device: str, precision: str = "fp32", threads: int = 1) -> None:
    """catalogue protocol: a seed's query embeddings, one query at a time (timed)."""
    from . import catalogue, dense, models

    models.set_threads(threads)
    model = models.load_bi_encoder(path, name, device, max_length, precision)
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


def read_query_texts(queries_file: str, normalized_file: str | None = None):
    """The queries (qid, query) an approach searches with, and each query's normalization
    seconds (zeros without a normalization)."""
    queries = trec.read_queries(queries_file)
    if not normalized_file:
        return queries, np.zeros(len(queries))
    norm = read_normalized(normalized_file)
    if norm["qid"].tolist() != queries["qid"].tolist():
        raise ShopbenchError(f"{normalized_file} does not hold the queries of {queries_file} "
                             f"in order; delete it and rerun")
    return norm[["qid", "query"]], norm["seconds"].to_numpy()


def bm25_run(corpus_file: str, queries_file: str, candidates_file: str, run_out: str,
             latency_out: str, *, approach: str, k: int, k1: float, b: float,
             backend: str, analyzer="notebook", pad_zero_scores: bool = False,
             ties: str = "docid", fields: dict | None = None, fields_file: str | None = None,
             normalized_file: str | None = None, analysis_out: str | None = None) -> None:
    """BM25 over the analyzer's tokens of the corpus text (or of weighted product fields).

    Only matching products (score > 0) are returned unless ``pad_zero_scores``. Queries and
    products the analyzer leaves without a token are counted, logged as a warning and
    written to ``analysis_out`` (JSON) for provenance.json.
    """
    from . import analyzers, bm25

    analyze = analyzers.make(analyzer)
    label = analyzers.describe(analyzer)
    corp = pd.read_parquet(corpus_file, columns=["docid", "text"])
    docids = corp["docid"].to_numpy()
    queries, norm_seconds = read_query_texts(queries_file, normalized_file)
    _, cands = _queries_and_candidates(queries_file, candidates_file, docids)
    opts = {"k1": k1, "b": b, "backend": backend, "analyzer": analyze}
    if fields:
        frame = read_fields(fields_file, docids)
        scorer = bm25.FieldedBM25({f: (frame[f], w) for f, w in fields.items()}, **opts)
        texts = frame[list(fields)].agg(" | ".join, axis=1)
    else:
        # The Series, not a list: bm25s then never holds every text as a Python string at once.
        scorer = bm25.BM25Scorer(corp["text"], **opts)
        texts = corp["text"]
    qtexts = queries["query"].tolist()
    ranked, scores, latency = bm25.search(scorer, docids, qtexts, k, cands,
                                          pad_zero_scores=pad_zero_scores, ties=ties)
    report = {"approach": approach, "analyzer": label,
              "queries": analyzers.empty_report(qtexts, map(analyze, qtexts), queries["qid"]),
              "products": analyzers.empty_report(texts.iloc[scorer.empty_docs],
                                                 [[]] * len(scorer.empty_docs),
                                                 docids[scorer.empty_docs])}
    warn_empty_tokens(report, len(qtexts), len(docids))
    empty = sum(1 for r in ranked if not r)
    log.info("bm25 %s (%s): %d of %d queries match no product%s", approach, label, empty,
             len(ranked), " (padded with zero scores)" if pad_zero_scores else "")
    latency = (np.asarray(latency) + norm_seconds).tolist()
    _write_outputs(queries["qid"], ranked, scores, latency, approach, run_out, latency_out)
    if analysis_out:
        write_json(report, analysis_out)


def fusion_run(runs: list[str], run_out: str, latency_out: str, *, approach: str, k: int,
               depth: int, method: str = "rrf", weights: list[float] | None = None,
               normalization: str = "min-max", ties: str = "docid") -> None:
    """Fuse the runs query by query; a query's latency is its own fusion time."""
    from . import fusion

    frames = [trec.read_run(r) for r in runs]
    qids, ranked, scores, seconds = fusion.fuse(frames, method, k, depth, weights,
                                                normalization, ties)
    _write_outputs(qids, ranked, scores, seconds, approach, run_out, latency_out)


def rerank_run(run_file: str, corpus_file: str, queries_file: str, run_out: str,
               latency_out: str, *, approach: str, path: str, model: str, max_length: int,
               batch_size: int | str, depth: int, device: str, threads: int = 1,
               shard: int = 0, shards: int = 1, normalized_file: str | None = None,
               precision: str = "fp32") -> None:
    """Rerank the queries of query shard ``shard`` of ``shards`` (all of them by default);
    with ``normalized_file`` the cross-encoder reads the normalized queries."""
    from . import models, rerank
    from . import shards as S

    models.set_threads(threads)
    corp = pd.read_parquet(corpus_file, columns=["docid", "text"])
    queries, _ = read_query_texts(queries_file, normalized_file)
    run = trec.read_run(run_file)
    if shards > 1:
        qids = np.unique(run["qid"].to_numpy())
        start, stop = S.shard_bounds(len(qids), shard, shards)
        run = run[run["qid"].isin(qids[start:stop])]
        log.info("query shard %d of %d: %d of %d queries", shard, shards, stop - start,
                 len(qids))
    ce = models.load_cross_encoder(path, model, device, max_length, precision)
    batch_size = models.resolve_batch_size(batch_size, models.pick_device(device))
    log.info("%s: batch size %d, %s, %d torch thread(s)", model, batch_size, precision,
             threads)
    from .progress import Progress

    pairs = int(run.groupby("qid")["docid"].size().clip(upper=depth).sum())
    progress = Progress(pairs, f"rerank {approach}", "pairs")
    qids, ranked, scores, latency = rerank.rerank(
        ce, run, dict(zip(queries["qid"], queries["query"])),
        dict(zip(corp["docid"], corp["text"])), depth, batch_size, progress.update)
    progress.finish()
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
             relevant_labels: list[str], normalized_file: str | None = None) -> None:
    """Per-query metrics, with the query text and the top-3 titles marked hit or miss; with
    a query normalization also the normalized text and what changed."""
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
    if normalized_file:
        norm = read_normalized(normalized_file)
        table.insert(4, "query_normalized", table["qid"].map(dict(zip(norm["qid"],
                                                                     norm["query"]))))
        table.insert(5, "query_changes", table["qid"].map(dict(zip(norm["qid"],
                                                                  norm["changes"]))))
    table["top3"] = table["qid"].map(top3).fillna("")
    trec.write_tsv(table, out)


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
          heatmap_out: str, quality_latency_out: str, metric: str, dpi: int,
          name: str | None = None) -> None:
    """The three plots; ``name``: the experiment's, for the titles."""
    from . import report

    summary = pd.read_csv(summary_file)
    per_query = pd.read_csv(per_query_file, keep_default_na=False,
                            na_values={"first_rel_rank": [""]})
    with atomic_outputs(metrics_out, heatmap_out, quality_latency_out) as (m_tmp, h_tmp, q_tmp):
        report.plot_metrics(summary, m_tmp, dpi, name)
        report.plot_heatmap(per_query, metric, h_tmp, dpi)
        report.plot_quality_latency(summary, pd.read_csv(latency_file), metric, q_tmp, dpi,
                                    name)
