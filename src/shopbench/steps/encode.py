"""Encoding: a model's product embeddings once per corpus (sharded on request), and each
seed's queries, one query at a time as at serving time (timed: the encoding part of a dense
approach's latency). Search then needs no model: a k or efSearch change reruns the search only.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .. import trec
from ..errors import ShopbenchError
from ..files import atomic_outputs, atomic_path

log = logging.getLogger("shopbench")


def _bi_encoder(path, name, device, max_length, precision, threads, batch_size=1):
    from .. import models

    models.set_threads(threads)
    model = models.load_bi_encoder(path, name, device, max_length, precision)
    batch_size = models.resolve_batch_size(batch_size, models.pick_device(device))
    log.info("%s: batch size %d, %s, %d torch thread(s)", name, batch_size, precision,
             threads)
    return model, batch_size


def product_texts(corpus: str, model_fields: list[str] | None = None,
                  fields_file: str | None = None):
    """The texts a bi-encoder embeds, as one Arrow array (Python strings made a batch at a
    time), and each text's length in characters: the corpus text, or the model's own
    ``fields`` joined as the corpus text is (e.g. the title only)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from .. import text as T
    from .corpus import read_fields

    if model_fields:
        docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
        frame = read_fields(fields_file, docids, list(model_fields))
        text = pa.array(T.product_text(frame, list(model_fields)).tolist(), type=pa.string())
    else:
        text = pq.read_table(corpus, columns=["text"]).column("text").combine_chunks()
    return text, pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)


def encode_products(corpus: str, *, path: str, model: str, document_prefix: str,
                    batch_size: int | str, max_length: int | None, device: str,
                    precision: str = "fp32", dtype: str = "float32", threads: int = 1,
                    shard: int = 0, shards: int = 1, model_fields: list[str] | None = None,
                    fields: str | None = None, weights: str | None = None,
                    embeddings_out: str | None = None, part_out: str | None = None) -> None:
    """The corpus matrix (``shards == 1``: ``.npy`` in corpus order, ``dtype``) or the batches
    of shard ``shard`` (``part_out``: rows and vectors, .npz) of one batch plan
    (shopbench.shards), so the merged matrix equals the unsharded one."""
    from .. import dense
    from .. import shards as S
    from ..progress import Progress

    text, lengths = product_texts(corpus, model_fields, fields)
    encoder, batch_size = _bi_encoder(weights or path, model, device, max_length, precision, threads,
                                      batch_size)
    plan = S.batch_plan(lengths, batch_size)
    start, stop = S.shard_bounds(len(plan), shard, shards)
    batches = plan[start:stop]
    rows = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    if not batches:
        log.warning("shard %d of %d is empty: %d batches for %d shards", shard, shards,
                    len(plan), shards)
    log.info("encoding %d of %d products (batches %d-%d of %d), %s", len(rows), len(text),
             start, stop - 1, len(plan), dtype)
    progress = Progress(len(rows), f"encode {model}", "products")
    out, done = None, 0
    for rows_b in batches:
        vecs = dense.encode(encoder, text.take(rows_b).to_pylist(), document_prefix,
                            batch_size)
        if out is None:
            out = np.empty((len(text) if shards == 1 else len(rows), vecs.shape[1]), dtype)
        out[rows_b if shards == 1 else slice(done, done + len(rows_b))] = vecs
        done += len(rows_b)
        progress.update(len(rows_b))
    progress.finish()
    if out is None:
        out = np.zeros((0, 0), dtype=dtype)
    if shards == 1:
        with atomic_path(embeddings_out) as tmp, open(tmp, "wb") as handle:
            np.save(handle, out)
    else:
        S.save_part(part_out, rows=rows, embeddings=out)


def merge_embeddings(parts: list[str], embeddings_out: str) -> None:
    """The corpus matrix from the shards of encode_products, one part in memory at a time."""
    from .. import shards as S

    out, covered = None, None
    for path in parts:
        part = S.load_part(path)
        rows, emb = part["rows"], part["embeddings"]
        if not len(rows):
            continue
        if out is None:
            n = sum(len(S.load_part(p)["rows"]) for p in parts)
            out = np.empty((n, emb.shape[1]), dtype=emb.dtype)
            covered = np.zeros(n, dtype=bool)
        if rows.max() >= len(out) or covered[rows].any():
            raise ShopbenchError("embedding shards do not cover the corpus rows exactly once; "
                                 "delete the shard files and rerun")
        out[rows], covered[rows] = emb, True
    if out is None or not covered.all():
        raise ShopbenchError("embedding shards do not cover every corpus row; delete the "
                             "shard files and rerun")
    with atomic_path(embeddings_out) as tmp, open(tmp, "wb") as handle:
        np.save(handle, out)
    log.info("merged %d shards: %s %s", len(parts), out.shape, out.dtype)


def encode_queries(queries: str, embeddings_out: str, seconds_out: str, *, path: str,
                   model: str, query_prefix: str, max_length: int | None, device: str,
                   precision: str = "fp32", threads: int = 1, normalized: str | None = None,
                   weights: str | None = None) -> None:
    """A seed's query matrix (queries-file order, float32) and each query's seconds: its
    encoding, one query at a time, plus its normalization's (with ``normalized``)."""
    from .. import dense
    from .corpus import read_query_texts

    frame, norm_seconds = read_query_texts(queries, normalized)
    encoder, _ = _bi_encoder(weights or path, model, device, max_length, precision, threads)
    qemb, seconds = dense.encode_queries(encoder, frame["query"].tolist(), query_prefix)
    log.info("encoded %d queries one at a time: median %.1f ms", len(frame),
             1000 * float(np.median(seconds)) if seconds else float("nan"))
    with atomic_outputs(embeddings_out, seconds_out) as (e_tmp, s_tmp):
        np.save(e_tmp, np.ascontiguousarray(qemb, dtype=np.float32))
        trec.write_tsv(pd.DataFrame({"qid": frame["qid"].tolist(),
                                     "seconds": np.asarray(seconds) + norm_seconds}), s_tmp)
