"""The Lucene engine against bm25s and FAISS: BM25 index time, batched search rate and peak
memory on a synthetic catalogue; HNSW recall@10 against exact search and queries/s.

BM25: a synthetic catalogue of ``--products`` products and ``--queries`` queries
(``synth.py``: ESCI-sized product texts, queries naming words of a product's title). Each stage
runs in a fresh interpreter, as a workflow job would, and reports its wall time and peak RSS
(``VmHWM``; for Lucene the JVM's heap is inside the process): the index build
(``backends.<name>.build``, the bm25_index step's call) and the search (``load``, one warm-up
query, then ``batch_search`` of every query, top 100, query analysis included: the bm25 step's
batch).
bm25s uses shopbench's English analyzer (stopwords, Snowball), Lucene its own English analyzer
(stopwords, Porter), each engine's natural choice; ``--threads`` is the job's threads (Lucene:
index segments searched in parallel; bm25s: its kernels' threads).

HNSW: ``--vectors`` clustered unit vectors (384 dimensions, as MiniLM's) and 200 queries; FAISS
flat gives the exact top 10; FAISS HNSW and Lucene HNSW (M 16, efConstruction 100) are built
through their backends and searched one query at a time through ``Index.search`` (what the
dense step times) for each ``--ef-search``.

    python benchmarks/bench_lucene.py                                  # 1.2M products
    python benchmarks/bench_lucene.py --products 100000 --queries 2000 --vectors 10000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

import common

sys.path.insert(0, str(common.REPO / "src"))  # this checkout's shopbench

CHILD = """
import json, sys, time
sys.path.insert(0, {src!r}); sys.path.insert(0, {bench!r})
extra = {{}}
{setup}
start = time.perf_counter()
{body}
wall = time.perf_counter() - start
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(json.dumps({{"wall_s": wall, "peak_rss_mb": hwm / 1024, **extra}}))
"""
DATA = """
import synth, pandas as pd
products = synth.catalogue({n})
pd.DataFrame({{"text": synth.texts_of(products)}}).to_parquet({corpus!r})
pd.DataFrame({{"query": synth.queries(products, {q})["query"].drop_duplicates()}}).to_parquet(
    {queries!r})
extra["products"] = len(products)
"""
BUILD_SETUP = """
from shopbench import backends
from shopbench.steps.index import text_batches, jvm_settings
module = backends.get({backend!r})
"""
BUILD = """
module.build({{"text": text_batches({corpus!r}, "text")}}, {index!r}, analyzer={analyzer!r},
             k1=0.9, b=0.4, **jvm_settings(module, {threads}, None))
"""
SEARCH_SETUP = """
import numpy as np, pandas as pd
from shopbench import analyzers, backends
from shopbench.steps.index import jvm_settings
module = backends.get({backend!r})
queries = pd.read_parquet({queries!r})["query"].tolist()
n = len(pd.read_parquet({corpus!r}, columns=[]))
docids = np.array([f"P{{i:08d}}" for i in range(n)], dtype=object)
analyze = analyzers.make({analyzer!r})
"""
SEARCH = """
index = module.load({index!r}, docids, **jvm_settings(module, {threads}, None))
index.batch_search([analyze(queries[0])], 100)  # warm-up: compiled kernels, JIT, caches
t = time.perf_counter()
results = index.batch_search([analyze(q) for q in queries], 100)
extra["search_s"] = time.perf_counter() - t
extra["queries"] = len(queries)
extra["queries_per_s"] = len(queries) / extra["search_s"]
extra["results"] = int(sum(len(p) for p, _ in results))
"""
ANALYZERS = {"bm25s": {"name": "english", "stopwords": True},
             "lucene": {"name": "lucene", "language": "english"}}


def child(setup: str, body: str) -> dict:
    code = CHILD.format(src=str(common.REPO / "src"), bench=str(common.REPO / "benchmarks"),
                        setup=textwrap.dedent(setup), body=textwrap.dedent(body))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bm25(work: Path, n: int, q: int, threads: int) -> list[dict]:
    corpus, queries = str(work / "corpus.parquet"), str(work / "queries.parquet")
    data = child("", DATA.format(n=n, q=q, corpus=corpus, queries=queries))
    print(f"catalogue: {data['products']:,} products in {data['wall_s']:.0f} s", flush=True)
    rows = []
    for backend, analyzer in ANALYZERS.items():
        index = str(work / f"index-{backend}")
        fmt = dict(backend=backend, corpus=corpus, index=index, analyzer=analyzer,
                   threads=threads, queries=queries)
        build = child(BUILD_SETUP.format(**fmt), BUILD.format(**fmt))
        search = child(SEARCH_SETUP.format(**fmt), SEARCH.format(**fmt))
        size = sum(f.stat().st_size for f in Path(index).rglob("*") if f.is_file())
        rows.append({"backend": backend, "analyzer": str(analyzer.get("language", "english")),
                     "index s": round(build["wall_s"], 1),
                     "index peak RSS MB": round(build["peak_rss_mb"]),
                     "index MB": round(size / 2**20),
                     "queries": search["queries"],
                     "search s": round(search["search_s"], 2),
                     "queries/s": round(search["queries_per_s"], 1),
                     "search peak RSS MB": round(search["peak_rss_mb"]),
                     "results": search["results"]})
        print(common.table(rows[-1:]), flush=True)
    return rows


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, n])
    centres = np.random.default_rng([seed, dim]).standard_normal((500, dim), dtype=np.float32)
    x = centres[rng.integers(0, 500, n)] + 0.6 * rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def hnsw(work: Path, n: int, ef_searches: list[int]) -> list[dict]:
    from shopbench import backends
    from shopbench.trec import top_k

    emb, queries = clustered(n, 384, 0), clustered(200, 384, 1)
    docids = np.array([f"P{i:08d}" for i in range(n)], dtype=object)
    np.save(work / "emb.npy", emb)
    exact = [set(top_k(emb @ q, docids, 10)[0].tolist()) for q in queries]
    rows = []
    for kind in ("hnsw", "lucene_hnsw"):
        path = str(work / f"{kind}.index")
        build_s, _ = common.timed(backends.get(kind).build, str(work / "emb.npy"), path,
                                  hnsw_m=16, ef_construction=100)
        for ef in ef_searches:
            index = backends.get(kind).load(path, docids, ef_search=ef)
            start = time.perf_counter()
            found = [index.search(q, 10)[0] for q in queries]
            seconds = time.perf_counter() - start
            recall = np.mean([len(set(f.tolist()) & e) / 10 for f, e in zip(found, exact)])
            rows.append({"index": kind, "M": 16, "efConstruction": 100, "build s":
                         round(build_s, 1), "efSearch": ef, "recall@10": round(recall, 3),
                         "queries/s (one by one)": round(len(queries) / seconds)})
            print(common.table(rows[-1:]), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=1_200_000)
    parser.add_argument("--queries", type=int, default=22_458)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vectors", type=int, default=50_000)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[16, 100])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-lucene-") as tmp:
        work = Path(tmp)
        result = {"machine": common.machine(), "args": vars(args),
                  "bm25": bm25(work, args.products, args.queries, args.threads),
                  "hnsw": hnsw(work, args.vectors, args.ef_search)}
    print(common.table(result["bm25"]))
    print(common.table(result["hnsw"]))
    print("saved", common.save("lucene", result))


if __name__ == "__main__":
    main()
