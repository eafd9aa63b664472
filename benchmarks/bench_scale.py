"""Peak memory (RSS) of the index and search stages at 1M products, without a model.

Writes random L2-normalised 384-d embeddings (what the encode step would write for 1M
products) and a corpus file with 1M docids, then runs, each in a fresh Python process as the
workflow does, the index step (``shopbench.steps.index``) and the search stage of the dense step
(``shopbench.steps.dense_run``, which needs no model: it reads the corpus docids, the index and
the query vectors of the encode step, here random ones, and searches one query at a time).
Each child reports its wall time and its peak RSS.

    python benchmarks/bench_scale.py                              # 1M x 384, flat, ~2 minutes
    python benchmarks/bench_scale.py --index hnsw --ef-construction 40   # HNSW (slow build)
    python benchmarks/bench_scale.py --bm25                       # also bm25s on 1M products
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

import common

LIMIT_MB = 8 * 1024

CHILD_PREAMBLE = """
import json, sys, time
sys.path.insert(0, {src!r}); sys.path.insert(0, {bench!r})
start = time.perf_counter()
"""
# VmHWM is the peak RSS of this process's own address space (ru_maxrss would include the
# parent's peak, which Linux carries across fork and exec).
CHILD_REPORT = """
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(json.dumps({{"wall_s": time.perf_counter() - start, "peak_rss_mb": hwm / 1024,
                  **extra}}))
"""
TEXT_STAGE = """
import pandas as pd, synth
docids = [f"B{{i:09d}}" for i in range({n})]
pd.DataFrame({{"docid": docids, "title": "", "text": synth.product_texts({n})}}).to_parquet(
    {corpus!r}, index=False)
extra = {{}}
"""
INDEX_STAGE = """
from shopbench import steps
steps.index({emb!r}, {out!r}, index={index!r}, hnsw_m={m}, ef_construction={efc})
extra = {{}}
"""
SEARCH_STAGE = """
import pandas as pd
from shopbench import steps
steps.dense_run({index!r}, {emb!r}, {qemb!r}, {qsec!r}, {corpus!r}, {queries!r}, {cands!r},
                {run!r}, {lat!r}, approach="dense", k={k}, threads={threads}, ef_search={efs})
searched = pd.read_csv({lat!r}, sep="\\t")["seconds"].sum()  # query encoding written as 0 s
extra = {{"queries_per_s": {n_queries} / searched}}
"""
BM25_STAGE = """
import numpy as np, pandas as pd
from shopbench import bm25
corp = pd.read_parquet({corpus!r}, columns=["docid", "text"])
docids = corp["docid"].to_numpy()
t = time.perf_counter()
scorer = bm25.BM25Scorer(corp["text"], backend="bm25s")  # as steps.bm25_run
build = time.perf_counter() - t
queries = [" ".join(x.lower().split()[:2]) for x in corp["text"].iloc[::{step}].head({n_queries})]
t = time.perf_counter()
bm25.search(scorer, docids, queries, {k})
extra = {{"build_s": build, "queries_per_s": len(queries) / (time.perf_counter() - t)}}
"""


def child(code: str, **fmt) -> dict:
    """Run one stage in a fresh interpreter; its wall time, peak RSS and extras."""
    src = str(common.REPO / "src")
    program = (CHILD_PREAMBLE.format(src=src, bench=str(common.REPO / "benchmarks"))
               + textwrap.dedent(code).format(**fmt) + CHILD_REPORT.format())
    out = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_inputs(work: Path, n: int, dim: int, with_text: bool) -> tuple[Path, Path]:
    """Embeddings (.npy, float32, unit rows) and a corpus parquet of ``n`` products."""
    rng = np.random.default_rng([n, dim])
    emb = np.lib.format.open_memmap(work / "emb.npy", mode="w+", dtype=np.float32,
                                    shape=(n, dim))
    for start in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - start), dim), dtype=np.float32)
        emb[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    emb.flush()
    del emb
    corpus = work / "corpus.parquet"
    if with_text:  # in a child, so that this process stays small
        child(TEXT_STAGE, n=n, corpus=str(corpus))
    else:
        docids = [f"B{i:09d}" for i in range(n)]
        pd.DataFrame({"docid": docids, "title": "", "text": ""}).to_parquet(corpus, index=False)
    return work / "emb.npy", corpus


def write_queries(work: Path, n: int, dim: int) -> dict[str, str]:
    """What the encode step writes for ``n`` queries (random unit vectors, 0 s encoding), the
    queries file and an empty candidates file (no task1-rerank)."""
    rng = np.random.default_rng(1)
    qemb = rng.standard_normal((n, dim), dtype=np.float32)
    np.save(work / "queries.npy", qemb / np.linalg.norm(qemb, axis=1, keepdims=True))
    qids = list(range(1, n + 1))
    pd.DataFrame({"qid": qids, "query": [f"query {q}" for q in qids]}).to_csv(
        work / "queries.tsv", sep="\t", index=False)
    pd.DataFrame({"qid": qids, "seconds": 0.0}).to_csv(work / "seconds.tsv", sep="\t",
                                                       index=False)
    (work / "candidates.tsv").write_text("qid\tdocid\n")
    return {"qemb": str(work / "queries.npy"), "qsec": str(work / "seconds.tsv"),
            "queries": str(work / "queries.tsv"), "cands": str(work / "candidates.tsv"),
            "run": str(work / "run.tsv"), "lat": str(work / "latency.tsv")}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--index", choices=["flat", "hnsw"], default="flat")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, default=128)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--bm25", action="store_true",
                        help="also build and search bm25s over n synthetic product texts")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default /tmp)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="shopbench-scale-", dir=args.work))
    try:
        t, (emb, corpus) = common.timed(write_inputs, work, args.n, args.dim, args.bm25)
        print(f"{args.n:,} x {args.dim} embeddings ({emb.stat().st_size / 2**30:.2f} GiB) "
              f"written in {t:.1f} s", flush=True)
        res: dict = {"n": args.n, "dim": args.dim, "index": args.index, "k": args.k,
                     "limit_mb": LIMIT_MB, "stages": {}}
        index_file = work / "index.faiss"
        res["stages"]["index"] = child(INDEX_STAGE, emb=str(emb), out=str(index_file),
                                       index=args.index, m=args.hnsw_m,
                                       efc=args.ef_construction)
        res["index_file_mb"] = index_file.stat().st_size / 2**20
        queries = write_queries(work, args.queries, args.dim)
        res["stages"]["search"] = child(SEARCH_STAGE, corpus=str(corpus), emb=str(emb),
                                        index=str(index_file), efs=args.ef_search,
                                        n_queries=args.queries, k=args.k,
                                        threads=os.cpu_count(), **queries)
        if args.bm25:
            res["stages"]["bm25 (bm25s)"] = child(BM25_STAGE, corpus=str(corpus),
                                                  n_queries=args.queries, k=args.k,
                                                  step=max(1, args.n // args.queries))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [{"stage": name, "wall s": r["wall_s"], "peak RSS MB": r["peak_rss_mb"],
             "within 8 GB": "yes" if r["peak_rss_mb"] <= LIMIT_MB else "NO",
             "queries/s": r.get("queries_per_s", float("nan"))}
            for name, r in res["stages"].items()]
    print(common.table(rows))
    common.save(f"scale-{args.index}-{args.n}", res)


if __name__ == "__main__":
    main()
