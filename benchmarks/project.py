"""Projected time of the full ESCI US test set (22,458 queries over 1.2M products) per approach.

Reads the figures the other benchmarks wrote to ``benchmarks/out/`` (run them first) and
scales each measured part to the full set: products encoded once per model, then every query.
Scaling rules: flat search and BM25 scoring grow linearly with the catalogue; HNSW search with
its logarithm and HNSW construction with ``n log n``. GPU columns use the reference figures of
an NVIDIA H200 (reference figures measured outside shopbench) unless
``benchmarks/out/gpu.json`` holds shopbench's own GPU run.

    python benchmarks/project.py
"""

from __future__ import annotations

import json
import math

import common

QUERIES, PRODUCTS, DEPTH = 22_458, 1_200_000, 50
# NVIDIA H200 reference figures (anchors.md): MiniLM-shaped encode, fp16, 256 tokens, batch 256;
# 6x384 cross-encoder, fp16, 512 tokens; exact top-100 of all queries by fp16 matmul.
GPU_REFERENCE = {"encode_per_s": 3142.0, "pairs_per_s": 3244.0, "exact_search_s": 0.26,
                 "source": "anchors.md, NVIDIA H200 (reference, not measured by shopbench)"}


def load(name: str) -> dict | None:
    path = common.OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def parts() -> dict:
    """Per-item costs (seconds) measured on this machine, scaled to 1.2M products."""
    models, bm, scale = load("models"), load("bm25-100k"), load("scale-flat-1000000")
    faiss = next((load(n) for n in ("faiss-clustered-1000000", "faiss-clustered-100000",
                                    "faiss-clustered-50000") if load(n)), None)
    missing = [n for n, v in {"models": models, "bm25-100k": bm, "scale-flat-1000000": scale,
                              "faiss-clustered-*": faiss}.items() if v is None]
    if missing:
        raise SystemExit(f"run the benchmarks first; missing benchmarks/out/{missing}.json")
    p = {"machine": models["machine"]}
    p["encode_s"] = 1 / models["encode"]["rate"]["shopbench dense.encode"]
    p["query_encode_s"] = 1 / models["query_encode_per_s"]
    p["pair_s"] = 1 / models["rerank"]["rate"]["shopbench rerank.rerank"]
    grow = PRODUCTS / bm["products"]
    for backend in ("bm25s", "rank_bm25"):
        p[f"{backend}_query_s"] = grow / bm["queries_per_s"][f"{backend} search"]
        p[f"{backend}_build_s"] = grow * bm["index_s"][backend]
    if "bm25 (bm25s)" in scale["stages"]:  # measured at 1M: prefer it
        stage, g1 = scale["stages"]["bm25 (bm25s)"], PRODUCTS / scale["n"]
        p["bm25s_query_s"] = g1 / stage["queries_per_s"]
        p["bm25s_build_s"] = g1 * stage["build_s"]
    g1 = PRODUCTS / scale["n"]
    p["flat_query_s"] = g1 / scale["stages"]["search"]["queries_per_s"]
    p["flat_build_s"] = g1 * scale["stages"]["index"]["wall_s"]
    n = faiss["n"]
    row = min((r for r in faiss["results"] if r["index"] == "hnsw"),
              key=lambda r: abs(int(r["efSearch"]) - 128))
    p["hnsw_ef_search"], p["hnsw_recall"] = row["efSearch"], row["recall@10"]
    p["hnsw_query_s"] = math.log(PRODUCTS) / math.log(n) / row[
        "queries/s (shopbench, one by one)"]
    p["hnsw_build_s"] = faiss["build_s"]["hnsw"] * PRODUCTS * math.log(PRODUCTS) / (
        n * math.log(n))
    p["hnsw_measured_n"] = n
    hnsw_1m = load("scale-hnsw-1000000")
    if hnsw_1m:  # measured at 1M (random vectors): prefer it to scaling up from 50k
        n1 = hnsw_1m["n"]
        p["hnsw_build_s"] = hnsw_1m["stages"]["index"]["wall_s"] * PRODUCTS * math.log(
            PRODUCTS) / (n1 * math.log(n1))
        p["hnsw_query_s"] = math.log(PRODUCTS) / math.log(n1) / hnsw_1m["stages"]["search"][
            "queries_per_s"]
        p["hnsw_measured_n"] = n1
    return p


def gpu_parts() -> dict:
    own = load("gpu")
    if own and own.get("device", "cpu") != "cpu":  # not a --device cpu smoke test
        rates = {r["what"]: r["per s"] for r in own["results"]}
        return {"encode_per_s": rates.get("encode all products, pipelined",
                                          GPU_REFERENCE["encode_per_s"]),
                "pairs_per_s": rates.get("rerank pairs, pipelined",
                                         GPU_REFERENCE["pairs_per_s"]),
                "exact_search_s": GPU_REFERENCE["exact_search_s"],
                "source": f"benchmarks/out/gpu.json ({own['device']}); exact search from "
                          f"anchors.md"}
    return GPU_REFERENCE


def projection() -> list[dict]:
    p, g = parts(), gpu_parts()
    q, n = QUERIES, PRODUCTS
    bm25s = p["bm25s_build_s"] + q * p["bm25s_query_s"]
    rank = p["rank_bm25_build_s"] + q * p["rank_bm25_query_s"]
    encode = n * p["encode_s"]
    flat = encode + p["flat_build_s"] + q * (p["query_encode_s"] + p["flat_query_s"])
    hnsw = encode + p["hnsw_build_s"] + q * (p["query_encode_s"] + p["hnsw_query_s"])
    rerank = q * DEPTH * p["pair_s"]
    gpu_dense = (n + q) / g["encode_per_s"] + g["exact_search_s"]
    gpu_rerank = q * DEPTH / g["pairs_per_s"]
    return [
        {"approach": "BM25, rank-bm25 (notebook)", "CPU (this machine)": duration(rank),
         "GPU": "-", "parts": f"index {duration(p['rank_bm25_build_s'])}, "
                              f"{1 / p['rank_bm25_query_s']:.2f} queries/s"},
        {"approach": "BM25, bm25s", "CPU (this machine)": duration(bm25s), "GPU": "-",
         "parts": f"index {duration(p['bm25s_build_s'])}, {1 / p['bm25s_query_s']:.0f} "
                  f"queries/s"},
        {"approach": "dense MiniLM, flat", "CPU (this machine)": duration(flat),
         "GPU": duration(gpu_dense),
         "parts": f"encode {duration(encode)} ({1 / p['encode_s']:.1f} products/s), "
                  f"{1 / p['flat_query_s']:.1f} searches/s, "
                  f"{1 / (p['query_encode_s'] + p['flat_query_s']):.1f} queries/s with encode"},
        {"approach": f"dense MiniLM, HNSW (efSearch {p['hnsw_ef_search']})",
         "CPU (this machine)": duration(hnsw), "GPU": "-",
         "parts": f"build {duration(p['hnsw_build_s'])}, {1 / p['hnsw_query_s']:.0f} "
                  f"searches/s (measured at {p['hnsw_measured_n']:,}), "
                  f"{1 / (p['query_encode_s'] + p['hnsw_query_s']):.1f} queries/s with encode"},
        {"approach": "hybrid RRF (MiniLM flat + bm25s)", "CPU (this machine)":
         duration(flat + bm25s), "GPU": duration(gpu_dense + bm25s), "parts": "sum of both"},
        {"approach": "hybrid + cross-encoder top-50 (6x384, 512 tok)",
         "CPU (this machine)": duration(flat + bm25s + rerank),
         "GPU": duration(gpu_dense + bm25s + gpu_rerank),
         "parts": f"rerank {duration(rerank)} CPU ({1 / p['pair_s']:.1f} pairs/s), "
                  f"{duration(gpu_rerank)} GPU"},
    ], g["source"]


def main() -> None:
    rows, source = projection()
    print(f"Full ESCI US test set: {QUERIES:,} queries over {PRODUCTS:,} products")
    print(common.table(rows))
    print(f"\nGPU column: {source}. BM25 runs on the CPU in both columns.")


if __name__ == "__main__":
    main()
