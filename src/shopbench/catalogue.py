"""The ``catalogue`` protocol: one corpus, embeddings and indexes per experiment, any size.

The corpus is every product of a locale with non-empty text, whatever the seed, so it and all
that is built from it (each model's embeddings, each FAISS index, each bm25s index) are made
once per experiment under ``results/<name>/catalogue/``; a seed only adds its queries. Every
function here streams or works column-wise so that a job at 1.2M products holds what it needs
and no more:

* the corpus is built from the products file row group by row group (only the needed columns),
  written to parquet piece by piece;
* encoding keeps the text column as one Arrow array, converts a batch at a time to Python
  strings, and writes each batch's vectors into one preallocated matrix (float32 or float16);
* the FAISS index is filled from the ``.npy`` file in chunks read from disk (no mmap, no copy of
  the whole matrix);
* the bm25s index is built column-wise (per-document term counts as arrays, one CSR to CSC
  conversion), byte-identical to ``bm25s.BM25.index`` (tested), saved with bm25s' own format
  and memory-mapped when searching;
* dense and BM25 searches of all queries run batched (FAISS on a query matrix, BM25 as a sparse
  matrix product per block of queries); a sample of queries is also searched one at a time to
  measure honest per-query latency.

No torch here: the encoder is passed in.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import data as D
from .errors import ShopbenchError
from .files import atomic_outputs, atomic_path
from .trec import top_k

log = logging.getLogger("shopbench")

ROWS_PER_PIECE = 50_000


# -- corpus -----------------------------------------------------------------------------------
def _text_of(frame: pd.DataFrame, fields: list[str]) -> pd.Series:
    """shopbench.text.product_text, column-wise: same strings (fields joined by single spaces,
    whitespace runs collapsed, stripped)."""
    parts = [frame[f].fillna("").astype(str) for f in fields]
    joined = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
    return joined.str.replace(r"\s+", " ", regex=True).str.strip()


def build_corpus(products: str, corpus_out: str, *, fields: list[str], locale: str,
                 rows_per_piece: int = ROWS_PER_PIECE) -> int:
    """Write the catalogue corpus (docid, title, text): every ``locale`` product with non-empty
    text, in products-file order. Reads only the needed columns, a piece at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(products)
    columns = list(dict.fromkeys(["product_id", "product_locale", "product_title"] + fields))
    if path.suffix.lower() != ".parquet":  # CSV/TSV: read the needed columns, then as below
        pieces = [D.read_products(path, fields)[columns]]
        batches = (pa.RecordBatch.from_pandas(p, preserve_index=False) for p in pieces)
    else:
        if not path.exists():
            D.read_products(path, fields)  # its clear "not found" error
        names = pq.read_schema(path).names
        missing = [c for c in columns if c not in names]
        if missing:
            raise D._missing_columns_error("products", path, missing)
        batches = pq.ParquetFile(path).iter_batches(batch_size=rows_per_piece, columns=columns)
    schema = pa.schema([("docid", pa.string()), ("title", pa.string()), ("text", pa.string())])
    seen: set[str] = set()
    kept = dropped = 0
    with atomic_path(corpus_out) as tmp:
        writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        try:
            for batch in batches:
                frame = batch.to_pandas()
                frame = frame[frame["product_locale"] == locale]
                if frame["product_id"].isna().any():
                    raise ShopbenchError(f"products file {path}: column product_id is empty on "
                                         f"some {locale!r} rows; download it again.")
                ids = frame["product_id"].astype(str)
                dup = ids[ids.duplicated() | ids.isin(seen)]
                if len(dup):
                    raise ShopbenchError(
                        f"products file {path} has duplicate (product_id, product_locale) "
                        f"key(s), e.g. {dup.iloc[0]}/{locale}; each product must appear once "
                        f"per locale.")
                seen.update(ids)
                text = _text_of(frame, fields)
                keep = (text.str.len() > 0).to_numpy()
                dropped += int((~keep).sum())
                piece = pd.DataFrame({"docid": ids.to_numpy()[keep],
                                      "title": frame["product_title"].fillna("").astype(str)
                                      .to_numpy()[keep],
                                      "text": text.to_numpy()[keep]})
                kept += len(piece)
                writer.write_table(pa.Table.from_pandas(piece, schema=schema,
                                                        preserve_index=False))
        finally:
            writer.close()
        if kept == 0:
            raise ShopbenchError(f"no {locale!r} product with non-empty text in fields "
                                 f"{fields} in {path}; check sampling.locale and text.fields.")
    log.info("catalogue corpus: %d %s products (%d dropped: empty text)", kept, locale,
             dropped)
    return kept


def read_text_column(corpus_file: str):
    """The corpus text as one Arrow array (no Python strings), and each text's length in
    characters (what ``len`` gives)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    text = pq.read_table(corpus_file, columns=["text"]).column("text").combine_chunks()
    return text, pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)


# -- encoding ---------------------------------------------------------------------------------
def batch_plan(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """shopbench.shards.batch_plan from the texts' lengths: longest first (stable)."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def encode_products(encode_batch, corpus_file: str, *, batch_size: int, shard: int = 0,
                    shards: int = 1, dtype: str = "float32",
                    embeddings_out: str | None = None, part_out: str | None = None) -> None:
    """Encode the catalogue (``shards == 1``: the ``.npy`` matrix in corpus order) or the
    batches of shard ``shard`` (``part_out``: rows and vectors, .npz), following the same batch
    plan as shopbench.shards, so the merged matrix equals the unsharded one.

    ``encode_batch(list_of_texts) -> 2-D float32 array`` encodes one batch.
    """
    from . import shards as S

    text, lengths = read_text_column(corpus_file)
    plan = batch_plan(lengths, batch_size)
    start, stop = S.shard_bounds(len(plan), shard, shards)
    batches = plan[start:stop]
    rows = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    n_out = len(text) if shards == 1 else len(rows)
    log.info("encoding %d of %d products (batches %d-%d of %d), %s", len(rows), len(text),
             start, stop - 1, len(plan), dtype)
    from .progress import Progress

    progress = Progress(len(rows), "encode products", "products")
    out = None
    done = 0
    for rows_b in batches:
        vecs = encode_batch(text.take(rows_b).to_pylist())
        if out is None:
            out = np.empty((n_out, vecs.shape[1]), dtype=dtype)
        out[rows_b if shards == 1 else slice(done, done + len(rows_b))] = vecs
        done += len(rows_b)
        progress.update(len(rows_b))
    if out is None:
        out = np.zeros((0, 0), dtype=dtype)
    progress.finish()
    if shards == 1:
        with atomic_path(embeddings_out) as tmp, open(tmp, "wb") as handle:
            np.save(handle, out)  # handle: an atomic_path temporary
    else:
        S.save_part(part_out, rows=rows, embeddings=out,
                    query_rows=np.zeros(0, dtype=np.int64),
                    query_embeddings=np.zeros((0, 0), dtype=np.float32),
                    query_seconds=np.zeros(0))


def merge_products(part_files: list[str], embeddings_out: str) -> None:
    """The catalogue matrix from the shards of encode_products, one part in memory at a time."""
    from . import shards as S

    out, covered = None, None
    for path in part_files:
        part = S.load_part(path)
        rows, emb = part["rows"], part["embeddings"]
        if not len(rows):
            continue
        if out is None:
            n = sum(len(np.load(p)["rows"]) for p in part_files)
            out = np.empty((n, emb.shape[1]), dtype=emb.dtype)
            covered = np.zeros(n, dtype=bool)
        if rows.max() >= len(out) or covered[rows].any():
            raise ShopbenchError("embedding shards do not cover the corpus rows exactly once; "
                                 "delete the shard files and rerun")
        out[rows] = emb
        covered[rows] = True
        del part, emb
    if out is None or not covered.all():
        raise ShopbenchError("embedding shards do not cover every corpus row; delete the "
                             "shard files and rerun")
    with atomic_path(embeddings_out) as tmp, open(tmp, "wb") as handle:
        np.save(handle, out)  # handle: an atomic_path temporary
    log.info("merged %d shards: %s %s", len(part_files), out.shape, out.dtype)


def encode_queries(encode_one, queries_file: str, queries_out: str, seconds_out: str) -> None:
    """A seed's query matrix (queries-file order, float32) and each query's encoding seconds,
    from ``encode_one(list_of_queries) -> (matrix, seconds)`` (one query at a time)."""
    from . import trec

    queries = trec.read_queries(queries_file)
    qemb, seconds = encode_one(queries["query"].tolist())
    log.info("encoded %d queries one at a time: median %.1f ms", len(queries),
             1000 * float(np.median(seconds)) if seconds else float("nan"))
    with atomic_outputs(queries_out, seconds_out) as (q_tmp, s_tmp):
        np.save(q_tmp, np.ascontiguousarray(qemb, dtype=np.float32))
        trec.write_tsv(pd.DataFrame({"qid": queries["qid"].tolist(), "seconds": seconds}),
                       s_tmp)


# -- FAISS index ------------------------------------------------------------------------------
def iter_npy_rows(path: str, chunk_rows: int = 65_536):
    """Row blocks of a 2-D ``.npy`` file, read from disk (float32), one block in memory."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(handle)
        if fortran or len(shape) != 2:
            raise ShopbenchError(f"{path}: expected a C-ordered 2-D matrix, found {shape}")
        n, dim = shape
        for start in range(0, n, chunk_rows):
            rows = min(chunk_rows, n - start)
            block = np.fromfile(handle, dtype=dtype, count=rows * dim).reshape(rows, dim)
            yield np.ascontiguousarray(block, dtype=np.float32)


def build_index(embeddings_file: str, index_out: str, *, index: str = "flat",
                hnsw_m: int | None = None, ef_construction: int | None = None) -> None:
    """shopbench.steps.index, filled from disk in chunks: memory = the index + one chunk."""
    import faiss

    idx = None
    for block in iter_npy_rows(embeddings_file):
        if idx is None:
            dim = block.shape[1]
            if index == "flat":
                idx = faiss.IndexFlatIP(dim)
            else:
                idx = faiss.IndexHNSWFlat(dim, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
                idx.hnsw.efConstruction = int(ef_construction)
        idx.add(block)
    if idx is None:
        raise ShopbenchError(f"{embeddings_file} holds no embeddings")
    log.info("%s index of %d vectors", index, idx.ntotal)
    with atomic_path(index_out) as tmp:
        faiss.write_index(idx, str(tmp))


# -- latency sample ---------------------------------------------------------------------------
def latency_rows(n: int, size: int) -> np.ndarray:
    """Positions of the ``size`` queries (of ``n``) timed one at a time, spread evenly."""
    if size >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


def latency_note(size: int) -> str:
    return (f"catalogue protocol: searches of all queries ran batched; latency measured one "
            f"query at a time on up to {size} queries per seed (spread evenly by qid)")


# -- dense search -----------------------------------------------------------------------------
def dense_search_batched(index, docids: np.ndarray, qemb: np.ndarray, k: int,
                         block: int = 1024):
    """Top-``k`` (docids, scores) of every query, FAISS searching ``block`` queries at a time.

    Same ranking rule as shopbench.dense.search: score descending, docid ascending, the depth
    grown (per query, one at a time) where a tie straddles the cut.
    """
    from .dense import _search_one

    n = index.ntotal
    depth = min(n, k + 8)
    ranked, scores = [], []
    for start in range(0, len(qemb), block):
        sc_block, idx_block = index.search(np.ascontiguousarray(qemb[start:start + block]),
                                           depth)
        for j in range(len(sc_block)):
            sc, idx = sc_block[j], idx_block[j]
            keep = idx >= 0
            sc, idx = sc[keep], idx[keep]
            if depth >= n or len(sc) <= k or sc[-1] < sc[min(k, len(sc)) - 1]:
                order, top = top_k(sc, docids[idx], k)
                found = idx[order]
            else:
                found, top = _search_one(index, qemb[start + j:start + j + 1], docids, k)
            ranked.append(docids[found].tolist())
            scores.append(top)
    return ranked, scores


def dense_run(index_file: str, query_embeddings_file: str, query_seconds_file: str,
              corpus_file: str, queries_file: str, run_out: str, latency_out: str, *,
              approach: str, k: int, threads: int = 1, ef_search: int | None = None,
              latency_queries: int = 1000) -> None:
    """Dense retrieval of every query of a seed over the catalogue index (batched)."""
    import faiss

    from . import dense, steps, trec

    faiss.omp_set_num_threads(int(threads))
    docids = pd.read_parquet(corpus_file, columns=["docid"])["docid"].to_numpy()
    queries = trec.read_queries(queries_file)
    qemb = np.load(query_embeddings_file)
    encoded = pd.read_csv(query_seconds_file, sep="\t", dtype={"qid": "int64"})
    if encoded["qid"].tolist() != queries["qid"].tolist() or len(qemb) != len(queries):
        raise ShopbenchError(f"{query_embeddings_file} does not hold the queries of "
                             f"{queries_file} in order; delete it and rerun")
    index = faiss.read_index(index_file)
    dense.set_ef_search(index, ef_search)
    start = time.perf_counter()
    ranked, scores = dense_search_batched(index, docids, qemb, k)
    batched = time.perf_counter() - start
    sample = latency_rows(len(queries), latency_queries)
    seconds = []
    for i in sample:
        t = time.perf_counter()
        dense._search_one(index, qemb[i:i + 1], docids, k)
        seconds.append(time.perf_counter() - t)
    log.info("dense: %d queries over %d products in %.1f s batched (%.0f queries/s); %d timed "
             "one at a time: median %.1f ms", len(queries), len(docids), batched,
             len(queries) / max(batched, 1e-9), len(sample),
             1000 * float(np.median(seconds)) if seconds else float("nan"))
    latency = encoded["seconds"].to_numpy()[sample] + np.asarray(seconds)
    _write(queries["qid"], ranked, scores, sample, latency, approach, run_out, latency_out)


def _write(qids, ranked, scores, sample, latency, approach, run_out, latency_out):
    from . import trec

    qids = list(qids)
    with atomic_outputs(run_out, latency_out) as (run_tmp, latency_tmp):
        trec.write_run(trec.run_frame(qids, ranked, scores, approach), run_tmp)
        trec.write_tsv(pd.DataFrame({"qid": [qids[i] for i in sample],
                                     "seconds": list(latency)}), latency_tmp)


# -- BM25 (bm25s) -----------------------------------------------------------------------------
def _term_counts(texts: list[str], tokenize, vocab: dict[str, int]):
    """Per document: sorted unique term ids, their counts, and the document's length."""
    flat, doc_len = [], np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = [vocab.setdefault(tok, len(vocab)) for tok in tokenize(text)]
        doc_len[i] = len(ids)
        flat.extend(ids)
    tokens = np.asarray(flat, dtype=np.int64)
    docs = np.repeat(np.arange(len(texts), dtype=np.int64), doc_len)
    pairs, counts = np.unique(docs << 32 | tokens, return_counts=True)
    return (pairs >> 32), (pairs & 0xFFFFFFFF).astype(np.int32), counts, doc_len


def bm25_index(corpus_file: str, index_dir: str, *, k1: float, b: float,
               tokenize=None, analyzer=None, rows_per_piece: int = ROWS_PER_PIECE) -> None:
    """A bm25s index (ATIRE tf, Robertson idf: shopbench's ``bm25s`` backend) of the catalogue,
    saved with ``bm25s.BM25.save``; equal, array for array, to ``bm25s.BM25.index``."""
    import bm25s
    import pyarrow.parquet as pq
    import scipy.sparse as sp

    from . import bm25

    if analyzer is not None:
        from . import analyzers

        tokenize = analyzers.make(analyzer)
    tokenize = tokenize or bm25.tokenize
    vocab: dict[str, int] = {}
    indices, counts, per_doc, lengths = [], [], [], []
    t0 = time.perf_counter()
    for batch in pq.ParquetFile(corpus_file).iter_batches(batch_size=rows_per_piece,
                                                          columns=["text"]):
        docs, toks, cnt, doc_len = _term_counts(batch.column(0).to_pylist(), tokenize, vocab)
        indices.append(toks)
        counts.append(cnt.astype(np.float32))
        per_doc.append(np.bincount(docs, minlength=len(doc_len)))
        lengths.append(doc_len)
    indices, tf = np.concatenate(indices), np.concatenate(counts)
    per_doc, lengths = np.concatenate(per_doc), np.concatenate(lengths)
    n_docs, n_vocab = len(lengths), len(vocab)
    log.info("bm25 index: %d products, %d terms, %d postings (tokenized in %.1f s)", n_docs,
             n_vocab, len(tf), time.perf_counter() - t0)
    # bm25s: idf (float32 array) = log(max(1, (N - df + 0.5) / (df + 0.5))); the term score
    # idf * tf (k1 + 1) / (tf + k1 (1 - b + b l_d / l_avg)) with tf (k1 + 1) in float32, the
    # rest in float64, stored float32: the same operations in the same precision as bm25s.
    df = np.bincount(indices, minlength=n_vocab)
    idf = np.log(np.maximum(1.0, (n_docs - df + 0.5) / (df + 0.5))).astype(np.float32)
    avg_len = lengths.mean()
    norm = np.repeat(k1 * (1 - b + b * lengths / avg_len), per_doc)
    step = 1 << 24
    for s in range(0, len(tf), step):  # in place, a slice at a time
        t = tf[s:s + step]
        tf[s:s + step] = idf[indices[s:s + step]] * ((t * (k1 + 1)) / (t + norm[s:s + step]))
    del norm
    indptr = np.concatenate([[0], np.cumsum(per_doc)])
    csc = sp.csr_matrix((tf, indices, indptr), shape=(n_docs, n_vocab)).tocsc()
    del tf, indices
    retriever = bm25s.BM25(k1=k1, b=b, method="atire", idf_method="robertson")
    retriever.scores = {"data": csc.data.astype(np.float32, copy=False),
                        "indices": csc.indices.astype(np.int32, copy=False),
                        "indptr": csc.indptr, "num_docs": n_docs}
    retriever.vocab_dict = vocab
    retriever.nonoccurrence_array = None  # ATIRE needs none
    target = Path(index_dir)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    retriever.save(str(tmp), show_progress=False)
    empty = np.flatnonzero(lengths == 0)  # products the analyzer leaves without a token
    (tmp / "shopbench.json").write_text(json.dumps({
        "num_docs": n_docs, "k1": k1, "b": b,
        "empty_products": {"count": int(len(empty)), "positions": empty[:5].tolist()}}))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    log.info("bm25 index saved to %s in %.1f s", index_dir, time.perf_counter() - t0)


def load_bm25(index_dir: str):
    """The saved bm25s index, memory-mapped (search touches only the queries' columns)."""
    import bm25s

    info = json.loads((Path(index_dir) / "shopbench.json").read_text())
    retriever = bm25s.BM25.load(index_dir, mmap=True, show_progress=False)
    retriever.scores["num_docs"] = info["num_docs"]
    return retriever


def bm25_scores_batched(retriever, query_ids: list[list[int]]) -> np.ndarray:
    """BM25 scores (queries x products, float32) of a block of queries (lists of term ids,
    repeats counted as bm25s counts them). Each query touches only its own terms' postings
    (one ``bincount`` over them), as bm25s' ``get_scores_from_ids`` does, summed in float64."""
    data, indices, indptr = (retriever.scores[k] for k in ("data", "indices", "indptr"))
    n_docs = retriever.scores["num_docs"]
    out = np.zeros((len(query_ids), n_docs), dtype=np.float32)
    for q, ids in enumerate(query_ids):
        if not ids:
            continue
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in ids]
        docs = np.concatenate([np.asarray(indices[a:z]) for a, z in spans])
        weights = np.concatenate([np.asarray(data[a:z], dtype=np.float64) for a, z in spans])
        out[q] = np.bincount(docs, weights=weights, minlength=n_docs)
    return out


def bm25_run(index_dir: str, corpus_file: str, queries_file: str, run_out: str,
             latency_out: str, *, approach: str, k: int, tokenize=None, block: int = 64,
             latency_queries: int = 1000, analyzer=None, pad_zero_scores: bool = False,
             ties: str = "docid", analysis_out: str | None = None) -> None:
    """BM25 (bm25s index of the catalogue) for every query of a seed, ``block`` at a time.
    Only matching products (score > 0) are kept unless ``pad_zero_scores``."""
    from . import bm25, trec

    if analyzer is not None:
        from . import analyzers

        tokenize = analyzers.make(analyzer)
    tokenize = tokenize or bm25.tokenize
    retriever = load_bm25(index_dir)
    vocab = retriever.vocab_dict
    docids = pd.read_parquet(corpus_file, columns=["docid"])["docid"].to_numpy()
    if len(docids) != retriever.scores["num_docs"]:
        raise ShopbenchError(f"{index_dir} indexes {retriever.scores['num_docs']} products, "
                             f"{corpus_file} holds {len(docids)}; delete the index and rerun")
    queries = trec.read_queries(queries_file)
    ids = [[vocab[t] for t in tokenize(q) if t in vocab] for q in queries["query"]]
    ranked, scores = [], []
    start = time.perf_counter()
    last = start
    for s in range(0, len(ids), block):
        if time.perf_counter() - last > 60:
            last = time.perf_counter()
            log.info("bm25: %d of %d queries (%.0f/s)", s, len(ids), s / (last - start))
        block_scores = bm25_scores_batched(retriever, ids[s:s + block])
        for row in block_scores:
            order, top = top_k(row, docids, k, ties=ties)
            if not pad_zero_scores:
                order, top = order[top > 0], top[top > 0]
            ranked.append(docids[order].tolist())
            scores.append(top)
    batched = time.perf_counter() - start
    sample = latency_rows(len(queries), latency_queries)
    seconds = []
    for i in sample:  # one query at a time, as the bm25s backend of shopbench.bm25 scores
        t = time.perf_counter()
        known = ids[i]
        row = (np.asarray(retriever.get_scores_from_ids(known)) if known
               else np.zeros(len(docids), dtype=np.float32))
        top_k(row, docids, k)
        seconds.append(time.perf_counter() - t)
    log.info("bm25: %d queries over %d products in %.1f s batched (%.0f queries/s); %d timed "
             "one at a time: median %.1f ms", len(queries), len(docids), batched,
             len(queries) / max(batched, 1e-9), len(sample),
             1000 * float(np.median(seconds)) if seconds else float("nan"))
    _write(queries["qid"], ranked, scores, sample, seconds, approach, run_out, latency_out)
    if analysis_out:
        meta = json.loads((Path(index_dir) / "shopbench.json").read_text())
        empty = meta.get("empty_products", {"count": 0, "positions": []})
        _write_analysis(analysis_out, approach, analyzer, queries, tokenize, corpus_file,
                        docids, empty["count"], empty["positions"])


def _write_analysis(analysis_out, approach, analyzer, queries, tokenize, corpus_file, docids,
                    n_empty_products, positions):
    """The analyzer report of shopbench.steps.bm25 (queries and products left without a
    token, counted, with examples), logged as a warning where any are."""
    from . import analyzers
    from .steps import warn_empty_tokens, write_json

    label = analyzers.describe(analyzer or "notebook")
    qtexts = queries["query"].tolist()
    titles = []
    if positions:
        titles = pd.read_parquet(corpus_file, columns=["title"])["title"].to_numpy()[positions]
    products = {"count": int(n_empty_products),
                "examples": [{"id": str(docids[p]), "text": str(t)[:80]}
                             for p, t in zip(positions, titles)]}
    report = {"approach": approach, "analyzer": label,
              "queries": analyzers.empty_report(qtexts, map(tokenize, qtexts), queries["qid"]),
              "products": products}
    warn_empty_tokens(report, len(qtexts), len(docids))
    write_json(report, analysis_out)


def bm25_catalogue_run(index_dir: str | None, corpus_file: str, queries_file: str,
                       run_out: str, latency_out: str, *, approach: str, k: int, k1: float,
                       b: float, backend: str, latency_queries: int = 1000,
                       analyzer="notebook", pad_zero_scores: bool = False,
                       ties: str = "docid", analysis_out: str | None = None) -> None:
    """BM25 over the catalogue: bm25s searches its persisted index (batched); rank_bm25 has no
    saved index, so it is rebuilt here for each seed and scores one query at a time."""
    if backend == "bm25s":
        bm25_run(index_dir, corpus_file, queries_file, run_out, latency_out, approach=approach,
                 k=k, latency_queries=latency_queries, analyzer=analyzer,
                 pad_zero_scores=pad_zero_scores, ties=ties, analysis_out=analysis_out)
        return
    from . import bm25, trec

    corp = pd.read_parquet(corpus_file, columns=["docid", "text"])
    docids = corp["docid"].to_numpy()
    queries = trec.read_queries(queries_file)
    from . import analyzers

    scorer = bm25.BM25Scorer(corp["text"], k1=k1, b=b, backend=backend,
                             analyzer=analyzers.make(analyzer))
    del corp
    ranked, scores, latency = bm25.search(scorer, docids, queries["query"].tolist(), k,
                                          pad_zero_scores=pad_zero_scores, ties=ties)
    sample = latency_rows(len(queries), latency_queries)
    _write(queries["qid"], ranked, scores, sample, np.asarray(latency)[sample], approach,
           run_out, latency_out)
    if analysis_out:
        empty = list(scorer.empty_docs)
        _write_analysis(analysis_out, approach, analyzer, queries, scorer.analyzer, corpus_file,
                        docids, len(empty), empty[:5])
