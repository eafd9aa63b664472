"""Workflow overhead: ``snakemake --cores N`` against one Python process doing the same work.

Both sides run an experiment config from scratch into a fresh results folder, each timed from
the outside as a whole command (interpreter start, imports and model loads included),
alternating, ``--repeats`` times. The one-process side (``--one-process``) runs the same
computations as the workflow's jobs with shopbench's functions, loading each model once:
sample, corpus, encode, index, every approach, evaluation, aggregates, latency, tables, plots
and provenance.

    python benchmarks/bench_workflow.py                      # config.yaml, 3 x 2 runs
    python benchmarks/bench_workflow.py --config experiments/X.yaml --cores 2 --repeats 5
    python benchmarks/bench_workflow.py --jobs               # also the per-job wall times
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import common

REPO = common.REPO


# -- the one-process equivalent ---------------------------------------------------------------
def one_process(config_file: str, root: str) -> None:
    """Every computation of the workflow for ``config_file``, outputs under ``root``."""
    import faiss
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(REPO / "src"))
    from shopbench import bm25, dense, models, provenance, rerank, steps, trec
    from shopbench import config as C

    cfg = C.validate(yaml.safe_load(Path(config_file).read_text()),
                     REPO / "workflow/schemas/config.schema.yaml")
    R = Path(root) / "results" / cfg["name"]
    ev, smp = cfg["evaluation"], cfg["sampling"]
    mcfg = {m["name"]: m for m in cfg["models"]}
    order = [a["name"] for a in cfg["approaches"]]
    loaded: dict = {}
    models.set_threads(os.cpu_count())

    def model(name: str):
        if name not in loaded:
            m = mcfg[name]
            load = models.load_bi_encoder if m["kind"] == "bi-encoder" else \
                models.load_cross_encoder
            loaded[name] = load(m["path"], name, cfg["device"], m["max_length"])
        return loaded[name]

    for seed in cfg["seeds"]:
        S = R / f"seed{seed}"
        steps.sample(cfg["data"]["examples"], S / "qrels.tsv", S / "queries.tsv",
                     S / "sample.parquet", seed=seed, locale=smp["locale"],
                     labels=smp["labels"], n_queries=smp["n_queries"], n_rows=smp["n_rows"],
                     on_too_few_queries=smp["on_too_few_queries"], protocol=cfg["protocol"])
        steps.corpus(cfg["data"]["examples"], cfg["data"]["products"], S / "sample.parquet",
                     S / "corpus.parquet", S / "candidates.tsv", seed=seed,
                     protocol=cfg["protocol"], fields=cfg["text"]["fields"],
                     locale=smp["locale"],
                     distractors=cfg["distractors"] if cfg["protocol"] == "judged-pool" else 0)
        corp = pd.read_parquet(S / "corpus.parquet")
        docids = corp["docid"].to_numpy()
        texts = dict(zip(corp["docid"], corp["text"]))
        queries, cands = steps._queries_and_candidates(S / "queries.tsv", S / "candidates.tsv",
                                                       docids)
        qtexts = queries["query"].tolist()
        emb, qemb, index = {}, {}, {}
        for a in cfg["approaches"]:
            if a["type"] == "dense" and a["model"] not in emb:
                m = mcfg[a["model"]]
                emb[a["model"]] = dense.encode(model(a["model"]), corp["text"].tolist(),
                                               m["document_prefix"],
                                               models.resolve_batch_size(m["batch_size"], "cpu"))
                qemb[a["model"]] = dense.encode_queries(model(a["model"]), qtexts,
                                                        m["query_prefix"])
                np.save(S / f"{a['model']}.npy", emb[a["model"]])
                np.save(S / f"{a['model']}.queries.npy", qemb[a["model"]][0])
                index[a["model"]] = dense.build_index(
                    emb[a["model"]], m["index"], m["hnsw_m"], m["ef_construction"])
                faiss.write_index(index[a["model"]], str(S / f"{a['model']}.faiss"))
        runs = {}
        for a in cfg["approaches"]:
            name = a["name"]
            if a["type"] == "dense":
                m = mcfg[a["model"]]
                vectors, encode_seconds = qemb[a["model"]]
                ranked, scores, lat = dense.search(
                    index[a["model"]], docids, vectors, a["k"], cands, emb[a["model"]],
                    m["ef_search"])
                lat = (np.asarray(encode_seconds) + np.asarray(lat)).tolist()
                qids = queries["qid"]
            elif a["type"] == "bm25":
                scorer = bm25.BM25Scorer(corp["text"].tolist(), k1=a["k1"], b=a["b"],
                                         backend=a["backend"])
                ranked, scores, lat = bm25.search(scorer, docids, qtexts, a["k"], cands)
                qids = queries["qid"]
            elif a["type"] == "fusion":
                from shopbench import fusion

                start = time.perf_counter()
                qids, ranked, scores = fusion.rrf([runs[r] for r in a["runs"]], k=a["k"],
                                                  depth=a["depth"])
                lat = [(time.perf_counter() - start) / max(1, len(qids))] * len(qids)
            else:
                qids, ranked, scores, lat = rerank.rerank(
                    model(a["model"]), runs[a["run"]],
                    dict(zip(queries["qid"], queries["query"])), texts, a["depth"],
                    models.resolve_batch_size(mcfg[a["model"]]["batch_size"], "cpu"))
            steps._write_outputs(qids, ranked, scores, lat, name, S / f"runs/{name}.tsv",
                                 S / f"latency/{name}.tsv")
            runs[name] = trec.read_run(S / f"runs/{name}.tsv")
            steps.evaluate(S / f"runs/{name}.tsv", S / "qrels.tsv", S / "queries.tsv",
                           S / "corpus.parquet", S / f"eval/{name}.tsv", approach=name,
                           seed=seed, hits_k=ev["hits_k"], gains=ev["gains"],
                           relevant_labels=ev["relevant_labels"])
    seeds = cfg["seeds"]
    baseline = C.baseline_of(cfg)
    steps.aggregate([R / f"seed{s}/eval/{n}.tsv" for s in seeds for n in order],
                    metrics_out=R / "metrics.csv", summary_out=R / "summary.csv",
                    per_query_out=R / "per_query.csv", significance_out=R / "significance.csv",
                    worst_out=R / "worst_queries.csv", order=order, baseline=baseline,
                    bootstrap=ev["bootstrap"], permutations=ev["permutations"],
                    worst_queries=ev["worst_queries"])
    labels = {str(R / f"seed{s}/latency/{n}.tsv"): [s, n] for s in seeds for n in order}
    steps.latency(list(labels), R / "latency.csv", order=order, labels=labels,
                  deps={a["name"]: C.dependencies(a) for a in cfg["approaches"]})
    steps.tables(R / "summary.csv", R / "significance.csv", R / "metrics.csv",
                 R / "tables/results.md", R / "tables/results.tex", R / "tables/results.rst",
                 baseline=baseline, gains=ev["gains"],
                 n_queries=None if smp["n_queries"] == "all" else smp["n_queries"])
    (R / "plots").mkdir(exist_ok=True)
    steps.plots(R / "summary.csv", R / "per_query.csv", R / "latency.csv",
                metrics_out=R / "plots/metrics.png", heatmap_out=R / "plots/heatmap.png",
                quality_latency_out=R / "plots/quality_latency.png",
                metric=cfg["report"]["plot_metric"], dpi=cfg["report"]["dpi"])
    provenance.write(R / "provenance.json", config=cfg,
                     models={n: m["path"] for n, m in mcfg.items()},
                     data_files=[cfg["data"]["examples"], cfg["data"]["products"]])


# -- the benchmark ----------------------------------------------------------------------------
def _config_copy(config: Path, name: str, folder: Path) -> Path:
    """``config`` with experiment name ``name`` and absolute data paths, in ``folder``."""
    cfg = yaml.safe_load(config.read_text())
    cfg["name"] = name
    for key in ("examples", "products"):
        cfg["data"][key] = str((REPO / cfg["data"][key]).resolve())
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _run(cmd: list[str], cwd: Path, log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as out:
        subprocess.run(cmd, cwd=cwd, check=True, stdout=out, stderr=subprocess.STDOUT)
    return time.perf_counter() - start


def job_times(log: Path) -> dict[str, float]:
    """Wall seconds per job from a snakemake log (its 1-s start and finish timestamps)."""
    stamp = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$")
    started, finished, names = {}, {}, {}
    current, rule = None, None
    for line in log.read_text().splitlines():
        text = line.strip()
        if m := stamp.match(text):
            current = time.mktime(time.strptime(m.group(1), "%a %b %d %H:%M:%S %Y"))
        elif m := re.match(r"(?:local)?rule (\w+):$", text):
            rule = m.group(1)
        elif m := re.match(r"jobid: (\d+)$", text):
            started[m.group(1)], names[m.group(1)] = current, rule
        elif m := re.match(r"wildcards: (.*)$", text):
            names[list(names)[-1]] += f" ({m.group(1)})"
        elif m := re.match(r"Finished jobid: (\d+)", text):
            finished[m.group(1)] = current
    return {names[j]: finished[j] - started[j] for j in finished if j in started}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", action="store_true", help="print per-job wall times")
    parser.add_argument("--keep", action="store_true", help="keep the result folders")
    parser.add_argument("--one-process", nargs=2, metavar=("CONFIG", "ROOT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_process:
        one_process(*args.one_process)
        return

    work = Path(tempfile.mkdtemp(prefix="shopbench-wf-"))
    times: dict[str, list[float]] = {"snakemake": [], "one process": []}
    jobs = {}
    for i in range(args.repeats):
        name = f"bench-wf-{os.getpid()}-{i}"
        cfg = _config_copy(args.config, name, work)
        log = work / f"{name}.snakemake.log"
        times["snakemake"].append(_run(
            ["snakemake", "--cores", str(args.cores), "--configfile", str(cfg)], REPO, log))
        jobs = job_times(log)
        if not args.keep:
            shutil.rmtree(REPO / "results" / name, ignore_errors=True)
        root = work / f"one-{i}"
        times["one process"].append(_run(
            [sys.executable, __file__, "--one-process", str(cfg), str(root)], REPO,
            work / f"one-{i}.log"))
        print(f"round {i + 1}: snakemake {times['snakemake'][-1]:.1f} s, one process "
              f"{times['one process'][-1]:.1f} s", flush=True)
    med = {k: common.median(v) for k, v in times.items()}
    ratio = med["snakemake"] / med["one process"]
    ratios = [a / b for a, b in zip(times["snakemake"], times["one process"])]
    print(common.table([{"run": k, "median s": med[k],
                         "runs": ", ".join(f"{x:.1f}" for x in v)} for k, v in times.items()]))
    print(f"\nsnakemake / one process: {ratio:.2f}x (per round: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}); target <= 1.5x")
    if args.jobs and jobs:
        print("\nper-job wall time of the last snakemake run (s, 1-s resolution):")
        print(common.table([{"job": j, "s": float(s)} for j, s in jobs.items()]))
    common.save("workflow", {"config": str(args.config), "cores": args.cores,
                             "repeats": args.repeats, "seconds": times, "median_s": med,
                             "ratio": ratio, "ratios": ratios, "jobs_last_run_s": jobs})
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
