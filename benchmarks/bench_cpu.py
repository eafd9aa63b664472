"""CPU defaults: torch threads x batch size for encoding and reranking, on the real slice.

What ``batch_size: auto`` and ``model_threads: auto`` choose on a CPU is measured here: the
notebook's seed-42 sample (``data/esci-us-150q``), its product texts encoded by a random
e5-small-v2-shaped bi-encoder (12x384, 512 tokens, ``passage:`` prefix) and its BM25 top 50
reranked by a random ms-marco-MiniLM-L-6-v2-shaped cross-encoder (6x384, 512 tokens), through
shopbench's own calls (``dense.encode``, ``rerank.rerank``: one ``predict`` per query), for
each (threads, batch size), the settings alternating over ``--repeats`` rounds. Speed depends
on the shapes and the texts' lengths, not on the weights, so random weights give real figures.

It prints products/s and pairs/s per setting, each against the notebook's own setting (2
threads on this machine: torch's default, one per core; batch 128 to encode, 32 to rerank).

    python benchmarks/bench_cpu.py                  # about 7 minutes on 2 cores
    python benchmarks/bench_cpu.py --threads 1 2 4 --batch-sizes 2 4 8
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import common
import random_models
from bench_models import seed_sample
from shopbench import dense, models, rerank


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cores = os.cpu_count() or 1
    parser.add_argument("--threads", type=int, nargs="+", default=sorted({1, cores}))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[2, 4, 8, 32])
    parser.add_argument("--products", type=int, default=96, help="products encoded per run")
    parser.add_argument("--queries", type=int, default=4, help="queries (x50 pairs) per run")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="shopbench-cpu-"))
    run, queries, texts, source = seed_sample(work)
    qids = sorted(run["qid"].unique())[: args.queries]
    run = run[run["qid"].isin(qids)]
    pairs = int(run.groupby("qid").head(50).shape[0])
    # products spread evenly over the range of text lengths
    products = sorted(texts.values(), key=len)[:: max(1, len(texts) // args.products)]
    products = products[: args.products]
    bi = models.load_bi_encoder(str(random_models.build(common.OUT / "models" / "e5-small",
                                                        "e5-small")), "e5", "cpu", 512)
    ce = models.load_cross_encoder(str(random_models.build(common.OUT / "models" / "ms-marco",
                                                           "ms-marco")), "ms-marco", "cpu", 512)
    print(f"data: {source}; encode {len(products)} products (e5-small shape, 512 tokens), "
          f"rerank {len(qids)} queries x 50 = {pairs} pairs (ms-marco shape, 512 tokens)",
          flush=True)

    notebook = {"encode": (cores, 128), "rerank": (cores, 32)}
    grid = {(t, b) for t in args.threads for b in args.batch_sizes}
    settings = {task: sorted(grid | {notebook[task]}) for task in notebook}

    def encode(threads, batch):
        models.set_threads(threads)
        dense.encode(bi, products, "passage: ", batch)

    def rerank_all(threads, batch):
        models.set_threads(threads)
        rerank.rerank(ce, run, queries, texts, 50, batch)

    call = {"encode": encode, "rerank": rerank_all}
    fns = {(task, t, b): (lambda f=call[task], t=t, b=b: f(t, b))
           for task in settings for t, b in settings[task]}
    encode(max(args.threads), 4)  # warm-up: the first call allocates
    times = common.interleaved(fns, args.repeats)
    units = {"encode": ("products", len(products)), "rerank": ("pairs", pairs)}
    rows = []
    for task, (unit, n) in units.items():
        base = common.median(times[(task, *notebook[task])])
        for threads, batch in settings[task]:
            med = common.median(times[(task, threads, batch)])
            rows.append({"task": task, "threads": threads, "batch size": batch,
                         "per s": n / med, "unit": unit, "vs notebook's setting": base / med,
                         "runs (s)": ", ".join(f"{x:.1f}" for x in times[(task, threads, batch)])})
    print(common.table(rows), flush=True)
    common.save("cpu", {"data": source, "products": len(products), "pairs": pairs,
                        "repeats": args.repeats, "notebook_settings": notebook,
                        "rows": rows})
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
