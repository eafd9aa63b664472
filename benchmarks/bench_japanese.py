"""Japanese analyzers compared: SudachiPy (sudachidict-core), fugashi (unidic-lite), CJK bigrams.

For each method: first-call load time, analysis speed (characters/s over the Japanese
fixture texts repeated to ``--texts`` texts), tokens per text, the installed size of its
dictionary, and BM25 retrieval on the Japanese fixture (tests/data/nonascii: 8 queries, 12
products, judged-pool): MRR and nDCG@10 of E over each query's ranking of all 12 products.

    python benchmarks/bench_japanese.py [--texts 20000]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from shopbench import analyzers, bm25  # noqa: E402
from shopbench.text import product_text  # noqa: E402

FIXTURE = REPO / "tests" / "data" / "nonascii"
METHODS = {"sudachi": ("sudachidict_core", analyzers.sudachi),
           "fugashi": ("unidic_lite", analyzers.mecab),
           "bigram": (None, analyzers.cjk_bigrams)}


def package_mb(module: str | None) -> float:
    if module is None:
        return 0.0
    root = Path(importlib.util.find_spec(module).origin).parent
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6


def retrieval(fn) -> tuple[float, float]:
    ex = pd.read_csv(FIXTURE / "shopping_queries_dataset_examples.tsv", sep="\t")
    pr = pd.read_csv(FIXTURE / "shopping_queries_dataset_products.tsv", sep="\t",
                     keep_default_na=False)
    ex, pr = ex[ex.product_locale == "jp"], pr[pr.product_locale == "jp"]
    texts = product_text(pr, ["product_title", "product_brand", "product_bullet_point",
                              "product_description"])
    scorer = bm25.BM25Scorer(texts, analyzer=fn)
    docids = pr["product_id"].to_numpy()
    rr, ndcg = [], []
    for qid, g in ex.groupby("query_id"):
        exact = set(g.loc[g.esci_label == "E", "product_id"])
        ranked, _, _ = bm25.search(scorer, docids, [g["query"].iloc[0]], 12)
        ranks = [i + 1 for i, d in enumerate(ranked[0]) if d in exact]
        rr.append(1 / ranks[0] if ranks else 0.0)
        dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= 10)
        ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(exact), 10) + 1))
        ndcg.append(dcg / ideal)
    return float(np.mean(rr)), float(np.mean(ndcg))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=20000)
    args = ap.parse_args()
    pr = pd.read_csv(FIXTURE / "shopping_queries_dataset_products.tsv", sep="\t",
                     keep_default_na=False)
    base = product_text(pr[pr.product_locale == "jp"],
                        ["product_title", "product_bullet_point", "product_description"])
    texts = (base.tolist() * (args.texts // len(base) + 1))[:args.texts]
    chars = sum(map(len, texts))
    print(f"{os.cpu_count()} CPUs; {len(texts)} texts, {chars} characters")
    print("method   load_s  chars/s    tokens/text  dict_MB  MRR    nDCG@10")
    for name, (module, fn) in METHODS.items():
        start = time.perf_counter()
        fn("ウォームアップ")
        load = time.perf_counter() - start
        start = time.perf_counter()
        n_tokens = sum(len(fn(t)) for t in texts)
        speed = chars / (time.perf_counter() - start)
        mrr, ndcg = retrieval(fn)
        print(f"{name:8} {load:6.2f}  {speed:9.0f}  {n_tokens / len(texts):11.1f}  "
              f"{package_mb(module):7.0f}  {mrr:.3f}  {ndcg:.3f}")


if __name__ == "__main__":
    main()
