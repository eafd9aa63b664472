"""Memory of the randomization test at catalogue scale (issue 12, item 11).

One sign-flip test at ``--queries`` (seed, query) pairs with ``--resamples`` sign vectors, run
batched as shopbench does; prints the peak memory traced by tracemalloc (numpy reports its
buffers to it), what one (resamples x pairs) draw would hold (computed, not allocated), their
ratio, and the wall time.

    python benchmarks/bench_significance.py                       # 22,458 x 3 pairs, 10,000
    python benchmarks/bench_significance.py --queries 2000 --resamples 2000
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from shopbench import stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=3 * 22_458)
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a = rng.uniform(size=args.queries)
    b = np.clip(a - rng.normal(0.002, 0.2, size=args.queries), 0, 1)
    tracemalloc.start()
    start = time.perf_counter()
    p = stats.permutation_test(a, b, args.resamples, seed=0)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    one_draw = 2 * 8 * args.queries * args.resamples  # signs and signs * diff, float64
    print(f"pairs {args.queries}, resamples {args.resamples}: p = {p:.4g}")
    print(f"peak traced memory, batched: {peak / 2**20:.1f} MiB")
    print(f"one (resamples x pairs) draw would hold: {one_draw / 2**30:.2f} GiB "
          f"({one_draw / peak:.0f}x the batched peak)")
    print(f"wall time: {seconds:.1f} s")


if __name__ == "__main__":
    main()
