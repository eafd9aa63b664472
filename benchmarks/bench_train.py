"""Training throughput (pairs/s) of the train rule's code (shopbench.train.fit: the library
trainers), on real ESCI text from the committed slice and random-weight models of the real shapes
(random_models.py: MiniLM 6x384 for the bi-encoder, the ms-marco cross-encoder 6x384; the
esci-task1 base, ms-marco-MiniLM-L-12, is 12x384: ``--ce-layers 12``).

For each configuration it trains on ``--pairs`` pairs (one epoch, so steps = pairs / batch) and
prints pairs/s, seconds and peak memory; figures go to ``benchmarks/out/train.json``.

    python benchmarks/bench_train.py                          # CPU, 2 threads, small run
    python benchmarks/bench_train.py --device cuda --pairs 20000 --batch-size 32 \\
        --max-length 512 --ce-layers 12 --threads 16          # GPU: the esci-task1 shapes
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (offline, tokenizers quiet)
import random_models

SLICE = common.REPO / "data" / "esci-us-150q"


def slice_rows():
    from shopbench import data as D
    from shopbench import train as T

    ex = D.read_examples(SLICE / "shopping_queries_dataset_examples.parquet")
    prods = D.read_products(SLICE / "shopping_queries_dataset_products.parquet")
    fields = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    return T.with_text(ex[ex["product_locale"] == "us"], prods, fields)


def repeat_to(columns: dict, n: int) -> dict:
    """The first ``n`` pairs, cycling through the data when it has fewer."""
    size = len(next(iter(columns.values())))
    return {k: [v[i % size] for i in range(n)] for k, v in columns.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--ce-layers", type=int, default=6, choices=(6, 12))
    parser.add_argument("--only", choices=("bi-encoder", "cross-encoder"))
    args = parser.parse_args()

    from shopbench import train as T

    rows = slice_rows()
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    if args.ce_layers == 12:
        random_models.SHAPES["ms-marco-l12"] = {"layers": 12, "max_length": 512,
                                                "kind": "cross-encoder"}
    shapes = {"bi-encoder": "minilm",
              "cross-encoder": "ms-marco" if args.ce_layers == 6 else "ms-marco-l12"}
    results = []
    for kind, shape in shapes.items():
        if args.only and kind != args.only:
            continue
        base = random_models.build(work / shape, shape)
        loss = "mnrl" if kind == "bi-encoder" else "mse"
        cfg = T.settings({"name": shape, "kind": kind,
                          "train": {"base": str(base), "loss": loss,
                                    "batch_size": args.batch_size,
                                    "max_length": args.max_length, "warmup": 0.1}},
                         ["product_title"])
        columns = repeat_to(T.pairs(rows, kind, cfg), args.pairs)
        start = time.perf_counter()
        facts = T.fit(columns, None, kind=kind, base=str(base), cfg=cfg,
                      out=str(work / f"{shape}-trained"), name=shape, device=args.device,
                      threads=args.threads)
        wall = time.perf_counter() - start
        texts = 3 if kind == "bi-encoder" and "negative" in columns else 2
        results.append({"kind": kind, "shape": shape, "loss": loss, "pairs": args.pairs,
                        "texts_per_pair": texts, "batch": args.batch_size,
                        "max_length": args.max_length, "steps": facts["steps"],
                        "train_s": facts["seconds"], "wall_s": round(wall, 1),
                        "pairs_per_s": facts["pairs_per_second"],
                        "peak_rss_mb": round(common.peak_rss_mb())})
        print(common.table(results[-1:]), flush=True)
    print()
    print(common.table(results))
    common.save("train", {"device": args.device, "threads": args.threads,
                          "results": results})


if __name__ == "__main__":
    main()
