"""Encoding and reranking: shopbench's calls against the raw sentence-transformers calls.

In one process, alternating, ``--repeats`` rounds on the same texts and pairs:

* encode: raw ``SentenceTransformer.encode`` vs ``shopbench.dense.encode`` vs the encode
  step's batch-plan path (``shopbench.shards.encode_part``), all-MiniLM-L6-v2 at 256 tokens;
* rerank: the notebook's loop of raw ``CrossEncoder.predict`` per query vs
  ``shopbench.rerank.rerank``, a random 6x384 cross-encoder (ms-marco-MiniLM-L-6-v2 shape) at
  512 tokens;
* (threads and batch sizes on a CPU: ``bench_cpu.py``);
* the seed-scale rerank (at batch size 8 by default): the notebook's sample (seed 42, 50
  queries, 500 rows; the real ESCI slice in ``data/esci-us-150q``, else the
  synthetic catalogue), top 50 of each query by BM25, reranked by ``shopbench.rerank.rerank``
  (the notebook took 302 s).

    python benchmarks/bench_models.py                       # about 5 minutes on 2 cores
    python benchmarks/bench_models.py --repeats 5 --seed-rerank-batch-sizes 32 8  # docs figures
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import common
import random_models
import synth
from shopbench import bm25, dense, models, rerank, steps, trec
from shopbench import shards as S

SLICE = common.REPO / "data" / "esci-us-150q"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def seed_sample(work: Path) -> tuple[pd.DataFrame, dict, dict, str]:
    """The notebook's seed-42 sample: BM25 top-50 run, queries, product texts, data source."""
    data, source = SLICE, "ESCI US slice (data/esci-us-150q)"
    if not (data / synth.EXAMPLES_FILE).exists():
        data, source = work / "synth", "synthetic catalogue (10k products)"
        products = synth.catalogue(10_000)
        synth.write(products, synth.queries(products, 200), data)
    ex, pr = str(data / synth.EXAMPLES_FILE), str(data / synth.PRODUCTS_FILE)
    steps.sample(ex, work / "qrels.tsv", work / "queries.tsv", work / "sample.parquet",
                 seed=42, locale="us", labels=["E"], n_queries=50, n_rows=500,
                 on_too_few_queries="clamp", protocol="seed")
    steps.corpus(ex, pr, work / "sample.parquet", work / "corpus.parquet",
                 work / "candidates.tsv", seed=42, protocol="seed",
                 fields=synth.TEXT_FIELDS, locale="us", distractors=0)
    corp = pd.read_parquet(work / "corpus.parquet")
    queries = trec.read_queries(work / "queries.tsv")
    docids = corp["docid"].to_numpy()
    scorer = bm25.BM25Scorer(corp["text"].tolist())
    ranked, scores, _ = bm25.search(scorer, docids, queries["query"].tolist(), 50)
    run = trec.run_frame(queries["qid"].tolist(), ranked, scores, "bm25")
    return (run, dict(zip(queries["qid"], queries["query"])),
            dict(zip(corp["docid"], corp["text"])), source)


def raw_rerank(model, run: pd.DataFrame, queries: dict, texts: dict, depth: int,
               batch_size: int) -> list[np.ndarray]:
    """The notebook's loop: one raw ``CrossEncoder.predict`` per query."""
    out = []
    for qid, group in run.groupby("qid", sort=True):
        docs = group.sort_values("rank").head(depth)["docid"]
        out.append(model.predict([(queries[qid], texts[d]) for d in docs],
                                 batch_size=batch_size, show_progress_bar=False))
    return out


def bench_encode(texts: list[str], batch_size: int, max_length: int, repeats: int) -> dict:
    model = models.load_bi_encoder(MINILM, "minilm", "cpu", max_length)
    fns = {
        "raw SentenceTransformer.encode": lambda: model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
            convert_to_numpy=True),
        "shopbench dense.encode": lambda: dense.encode(model, texts, "", batch_size),
        "shopbench encode step (batch plan)": lambda: S.encode_part(
            lambda batch: dense.encode(model, batch, "", batch_size), texts, batch_size),
    }
    fns["raw SentenceTransformer.encode"]()  # warm-up
    times = common.interleaved(fns, repeats)
    return _rates(times, len(texts), "raw SentenceTransformer.encode", "texts/s"), model


def query_encode_rate(model, queries: list[str], repeats: int) -> float:
    """Queries/s encoded one at a time, as the encode step does (for the dense latency)."""
    seconds, _, _ = common.median_time(lambda: dense.encode_queries(model, queries), repeats)
    return len(queries) / seconds


def bench_rerank(model, run, queries, texts, depth, batch_size, repeats) -> dict:
    pairs = int(run.groupby("qid").head(depth).shape[0])
    fns = {
        "raw CrossEncoder.predict per query": lambda: raw_rerank(model, run, queries, texts,
                                                                 depth, batch_size),
        "shopbench rerank.rerank": lambda: rerank.rerank(model, run, queries, texts, depth,
                                                         batch_size),
    }
    times = common.interleaved(fns, repeats)
    return _rates(times, pairs, "raw CrossEncoder.predict per query", "pairs/s")


def _rates(times: dict, n: int, raw: str, unit: str) -> dict:
    med = {k: common.median(v) for k, v in times.items()}
    return {"n": n, "unit": unit, "seconds": times, "median_s": med,
            "rate": {k: n / v for k, v in med.items()},
            "vs_raw": {k: med[raw] / v for k, v in med.items()}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=192, help="texts encoded per run")
    parser.add_argument("--rerank-queries", type=int, default=4,
                        help="queries (x50 pairs) per rerank throughput run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed-rerank-repeats", type=int, default=1,
                        help="full seed-scale reranks per batch size (about 100 s each)")
    parser.add_argument("--seed-rerank-batch-sizes", type=int, nargs="+", default=[8],
                        help="batch sizes of the seed-scale rerank (32: the schema default)")
    args = parser.parse_args(argv)
    models.set_threads(os.cpu_count())
    work = Path(tempfile.mkdtemp(prefix="shopbench-models-"))
    run, queries, texts, source = seed_sample(work)
    print(f"data: {source}; {run['qid'].nunique()} queries, {len(texts)} products", flush=True)
    res: dict = {"data": source, "batch_size": args.batch_size, "repeats": args.repeats}

    corpus_texts = sorted(texts.values())[: args.texts]
    res["encode"], bi = bench_encode(corpus_texts, args.batch_size, 256, args.repeats)
    _print("encode, all-MiniLM-L6-v2, 256 tokens", res["encode"])
    res["query_encode_per_s"] = query_encode_rate(bi, list(queries.values()), args.repeats)
    print(f"query encode, one at a time: {res['query_encode_per_s']:.1f} queries/s")
    del bi

    ce_dir = random_models.build(common.OUT / "models" / "ms-marco", "ms-marco")
    ce = models.load_cross_encoder(str(ce_dir), "ms-marco", "cpu", 512)
    qids = sorted(run["qid"].unique())[: args.rerank_queries]
    res["rerank"] = bench_rerank(ce, run[run["qid"].isin(qids)], queries, texts, 50,
                                 args.batch_size, args.repeats)
    _print("rerank, 6x384 cross-encoder, 512 tokens", res["rerank"])

    n_pairs = int(run.groupby("qid").head(50).shape[0])
    res["seed_rerank"] = []
    for batch_size in args.seed_rerank_batch_sizes:
        seconds, times, out = common.median_time(
            lambda: rerank.rerank(ce, run, queries, texts, 50, batch_size),
            args.seed_rerank_repeats)
        res["seed_rerank"].append({"batch_size": batch_size, "queries": len(out[0]),
                                   "pairs": n_pairs, "median_s": seconds, "runs_s": times,
                                   "notebook_s": 302.0, "anchor_notebook_code_here_s": 106.7})
        print(f"\nseed-scale rerank, batch {batch_size}: {len(out[0])} queries x 50 = "
              f"{n_pairs} pairs in {seconds:.1f} s ({n_pairs / seconds:.1f} pairs/s; the "
              f"notebook took 302 s, its code on this machine 106.7 s per anchors.md)",
              flush=True)
    common.save("models", res)
    shutil.rmtree(work, ignore_errors=True)


def _print(title: str, res: dict) -> None:
    print(f"\n{title}: {res['n']} per run")
    print(common.table([{"call": k, res["unit"] + " (median)": res["rate"][k],
                         "vs raw": res["vs_raw"][k],
                         "runs (s)": ", ".join(f"{x:.2f}" for x in res["seconds"][k])}
                        for k in res["rate"]]), flush=True)


if __name__ == "__main__":
    main()
