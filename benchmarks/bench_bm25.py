"""BM25 backends: rank-bm25 (the notebook's) against bm25s on a synthetic ESCI catalogue.

Measures, in one process on the same corpus and queries: index build time, queries/s of
shopbench's ``bm25.search`` (scoring every product plus the top-k cut, what the workflow runs)
and of the raw ``get_scores`` call, the speed-up of bm25s, and how often the top 10 of bm25s
(ATIRE tf, Robertson idf) equals that of rank-bm25 ``BM25Okapi(epsilon=0)``, and of the
notebook's default ``epsilon=0.25``.

    python benchmarks/bench_bm25.py                      # 100k products, about 3 minutes
    python benchmarks/bench_bm25.py --products 1000000 --ref-queries 5 --agree-queries 20
"""

from __future__ import annotations

import argparse

import numpy as np

import common
import synth
from shopbench import bm25


def _queries_per_s(fn, queries: list[str], repeats: int) -> tuple[float, list[float]]:
    seconds, times, _ = common.median_time(lambda: [fn(q) for q in queries], repeats)
    return len(queries) / seconds, [len(queries) / t for t in times]


def run(n_products: int, n_queries: int, ref_queries: int, agree_queries: int,
        repeats: int, k: int = 100) -> dict:
    build_s, products = common.timed(synth.catalogue, n_products)
    texts = synth.texts_of(products)
    queries = synth.queries(products, n_queries)["query"].unique().tolist()
    del products
    docids = np.array([f"D{i:08d}" for i in range(len(texts))], dtype=object)
    print(f"{len(texts):,} products ({build_s:.1f} s to generate), {len(queries):,} queries; "
          f"mean {np.mean([len(bm25.tokenize(t)) for t in texts[:5000]]):.0f} tokens/product")

    results: dict = {"products": len(texts), "queries": len(queries), "k": k,
                     "repeats": repeats}
    index_s, fast = common.timed(bm25.BM25Scorer, texts, backend="bm25s")
    ref_s, ref = common.timed(bm25.BM25Scorer, texts, backend="rank_bm25", epsilon=0.0)
    results["index_s"] = {"bm25s": index_s, "rank_bm25": ref_s}
    print(f"index: bm25s {index_s:.1f} s, rank-bm25 {ref_s:.1f} s")

    search_fast = lambda q: bm25.search(fast, docids, [q], k)  # noqa: E731
    search_ref = lambda q: bm25.search(ref, docids, [q], k)  # noqa: E731
    qps = {
        "bm25s search": _queries_per_s(search_fast, queries, repeats),
        "bm25s get_scores (library)": _queries_per_s(lambda q: _raw_bm25s(fast, q), queries,
                                                     repeats),
        "rank_bm25 search": _queries_per_s(search_ref, queries[:ref_queries], repeats),
        "rank_bm25 get_scores": _queries_per_s(ref.scores, queries[:ref_queries], repeats),
    }
    results["queries_per_s"] = {name: v[0] for name, v in qps.items()}
    results["queries_per_s_runs"] = {name: v[1] for name, v in qps.items()}
    results["speedup_search"] = qps["bm25s search"][0] / qps["rank_bm25 search"][0]
    results["speedup_get_scores"] = (qps["bm25s get_scores (library)"][0]
                                     / qps["rank_bm25 get_scores"][0])

    sample = queries[:agree_queries]
    fast_top, _, _ = bm25.search(fast, docids, sample, 10)
    ref_top, _, _ = bm25.search(ref, docids, sample, 10)
    results["agree_queries"] = len(sample)
    results["top10_agreement"] = float(np.mean([a == b for a, b in zip(fast_top, ref_top)]))
    del ref
    nb = bm25.BM25Scorer(texts, backend="rank_bm25", epsilon=0.25)
    nb_top, _, _ = bm25.search(nb, docids, sample, 10)
    results["top10_agreement_vs_notebook_epsilon"] = float(
        np.mean([a == b for a, b in zip(fast_top, nb_top)]))
    return results


def _raw_bm25s(scorer: bm25.BM25Scorer, query: str):
    """The library's own ``BM25.get_scores`` (numpy backend) on the known query words."""
    known = [t for t in bm25.tokenize(query) if t in scorer._vocab]
    return scorer._bm25.get_scores(known) if known else None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000,
                        help="queries timed with bm25s")
    parser.add_argument("--ref-queries", type=int, default=20,
                        help="queries timed with rank-bm25 (about 4/s at 100k products)")
    parser.add_argument("--agree-queries", type=int, default=100,
                        help="queries whose top 10 are compared")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    res = run(args.products, args.queries, args.ref_queries, args.agree_queries, args.repeats)
    rows = [{"backend / call": name, "queries/s (median)": v,
             "runs": ", ".join(f"{x:,.1f}" for x in res["queries_per_s_runs"][name])}
            for name, v in res["queries_per_s"].items()]
    print(common.table(rows))
    print(f"\nbm25s speed-up: {res['speedup_search']:,.0f}x (search), "
          f"{res['speedup_get_scores']:,.0f}x (get_scores)")
    print(f"top-10 agreement with BM25Okapi(epsilon=0): {res['top10_agreement']:.1%} of "
          f"{res['agree_queries']} queries; with the notebook's epsilon=0.25: "
          f"{res['top10_agreement_vs_notebook_epsilon']:.1%}")
    common.save(f"bm25-{synth.size_label(args.products)}", res)


if __name__ == "__main__":
    main()
