"""FAISS indexes: flat (exact) against HNSW, recall@10 and queries/s through shopbench's search.

Vectors are synthetic L2-normalised embeddings: ``clustered`` (a mixture of Gaussian clusters)
or ``uniform`` (isotropic noise, HNSW's hardest case), queries from the same distribution; or
``esci``: real all-MiniLM-L6-v2 embeddings of the ESCI slice's products and queries. For every
efSearch, HNSW's top 10 is compared with flat's exact top 10 (recall@10 = share of the exact top
10 found). Queries/s is one query at a time through ``shopbench.dense._search_one`` (what the
dense step runs, after encoding: the FAISS search, tie-safe depth and top-k); the raw batched
``index.search`` is shown beside it.

    python benchmarks/bench_faiss.py                          # 50k vectors, about 2 minutes
    python benchmarks/bench_faiss.py --data esci --ef-search 16 32 64 128
    python benchmarks/bench_faiss.py --n 1000000 --ef-construction 100 --ef-search 64 128 256
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import common
from shopbench import dense


def vectors(n: int, dim: int, kind: str, seed: int, centres: int = 1000) -> np.ndarray:
    """``n`` unit vectors: clustered (``centres`` Gaussian clusters) or uniform."""
    rng = np.random.default_rng([seed, n, dim])
    if kind == "uniform":
        x = rng.standard_normal((n, dim), dtype=np.float32)
    else:
        c = np.random.default_rng([seed, dim, centres]).standard_normal(
            (centres, dim), dtype=np.float32)
        x = c[rng.integers(0, centres, n)]
        x += 0.6 * rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def esci_vectors() -> tuple[np.ndarray, np.ndarray]:
    """all-MiniLM-L6-v2 embeddings (256 tokens) of the ESCI slice's products and queries,
    cached in benchmarks/out/ (encoding the 6,764 products takes ~4 minutes on 2 cores)."""
    cache = common.OUT / "esci-slice-minilm.npz"
    if not cache.exists():
        import pandas as pd

        from shopbench import data, models
        from shopbench.text import product_text

        slice_dir = common.REPO / "data" / "esci-us-150q"
        products = data.read_products(slice_dir / "shopping_queries_dataset_products.parquet")
        examples = data.read_examples(slice_dir / "shopping_queries_dataset_examples.parquet")
        fields = ["product_title", "product_brand", "product_bullet_point",
                  "product_description"]
        texts = product_text(products, fields)
        texts = texts[texts.str.len() > 0].tolist()
        queries = pd.unique(examples["query"]).tolist()
        model = models.load_bi_encoder("sentence-transformers/all-MiniLM-L6-v2", "minilm",
                                       "cpu", 256)
        docs = dense.encode(model, texts, "", 8)
        qs = dense.encode(model, queries, "", 8)
        common.OUT.mkdir(parents=True, exist_ok=True)
        np.savez(cache, docs=docs, queries=qs)
    cached = np.load(cache)
    return cached["docs"], cached["queries"]


def _per_query(index, queries: np.ndarray, docids: np.ndarray, k: int):
    return [dense._search_one(index, q[None, :], docids, k)[0] for q in queries]


def run(n, dim, kind, n_queries, k, m, ef_construction, ef_searches, repeats) -> dict:
    import faiss

    faiss.omp_set_num_threads(os.cpu_count())
    if kind == "esci":
        emb, queries = esci_vectors()
        n, dim, queries = len(emb), emb.shape[1], queries[:n_queries]
        n_queries = len(queries)
    else:
        emb = vectors(n, dim, kind, 0)
        queries = vectors(n_queries, dim, kind, 1)
    docids = np.array([f"D{i:08d}" for i in range(n)], dtype=object)
    res: dict = {"n": n, "dim": dim, "data": kind, "queries": n_queries, "k": k,
                 "hnsw_m": m, "ef_construction": ef_construction, "repeats": repeats}
    flat_s, flat = common.timed(dense.build_index, emb, "flat")
    hnsw_s, hnsw = common.timed(dense.build_index, emb, "hnsw", m, ef_construction)
    res["build_s"] = {"flat": flat_s, "hnsw": hnsw_s}
    res["index_mb"] = {"flat": faiss.serialize_index(flat).nbytes / 2**20,
                       "hnsw": faiss.serialize_index(hnsw).nbytes / 2**20}
    print(f"{n:,} x {dim} {kind} vectors; build flat {flat_s:.1f} s, hnsw {hnsw_s:.1f} s "
          f"(M {m}, efConstruction {ef_construction})", flush=True)

    exact = _per_query(flat, queries, docids, k)
    rows = []
    flat_t, _, _ = common.median_time(lambda: _per_query(flat, queries, docids, k), repeats)
    raw_t, _, _ = common.median_time(lambda: flat.search(queries, k), repeats)
    rows.append({"index": "flat", "efSearch": "-", "recall@10": 1.0,
                 "queries/s (shopbench, one by one)": n_queries / flat_t,
                 "queries/s (raw batched search)": n_queries / raw_t})
    for ef in ef_searches:
        dense.set_ef_search(hnsw, ef)
        found = _per_query(hnsw, queries, docids, k)
        recall = np.mean([len(set(a[:10]) & set(b[:10])) / min(10, len(a))
                          for a, b in zip(exact, found)])
        t, _, _ = common.median_time(lambda: _per_query(hnsw, queries, docids, k), repeats)
        rt, _, _ = common.median_time(lambda: hnsw.search(queries, k), repeats)
        rows.append({"index": "hnsw", "efSearch": ef, "recall@10": float(recall),
                     "queries/s (shopbench, one by one)": n_queries / t,
                     "queries/s (raw batched search)": n_queries / rt})
        print(f"  efSearch {ef}: recall@10 {recall:.4f}", flush=True)
    res["results"] = rows
    return res


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--data", choices=["clustered", "uniform", "esci"], default="clustered",
                        help="esci: real MiniLM embeddings of the ESCI slice (6,764 products)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=100, help="depth searched per query")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    res = run(args.n, args.dim, args.data, args.queries, args.k, args.hnsw_m,
              args.ef_construction, args.ef_search, args.repeats)
    print(common.table(res["results"]))
    common.save(f"faiss-{args.data}-{res['n']}", res)


if __name__ == "__main__":
    main()
