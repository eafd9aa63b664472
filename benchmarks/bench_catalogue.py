"""The catalogue experiment through ``snakemake``, at the scale of ESCI US: per-rule wall time
and per-job peak memory.

Not a micro-benchmark: it writes a synthetic catalogue in the official file format
(``synth.py``: 1.2M products, 22,458 queries by default), a small random-weight bi-encoder (the
all-MiniLM-L6-v2 tokenizer, 2 BERT layers of width 32, mean pooling, then a random linear map
to 384 dimensions, MiniLM's embedding size, so that embeddings, index and searches have the
real sizes while encoding takes minutes, not hours, on a CPU), and an experiment config with
the catalogue protocol (dense, bm25s, hybrid; every query of the file, one seed), then runs
``snakemake --cores N --configfile ...`` from the repository root, as a user would.

Every workflow step logs its own wall time and peak resident memory (Linux ``VmHWM`` of the job
process, shopbench.logs); this script collects them per job from the jobs' logs, prints a table
per rule, and writes ``benchmarks/out/catalogue-<size>.json``. Memory that a job holds is what a
cluster must grant it: compare it with profiles/slurm/config.yaml.

    python benchmarks/bench_catalogue.py                          # 1.2M products, 22,458 queries
    python benchmarks/bench_catalogue.py --products 50000 --queries 1000   # a few minutes

The synthetic files and the model are cached under benchmarks/out/; the experiment's results go
to results/bench-catalogue-<size>/ and are removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common
import synth

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 8 * 1024
THREADED = ("encode_products", "encode_catalogue_queries", "dense_catalogue")
STEP_DONE = re.compile(r"step done in ([0-9.]+) s, peak memory ([0-9]+) MB")


def build_model(folder: Path, dim: int, seed: int = 0) -> Path:
    """A random 2-layer, width-32 BERT with mean pooling and a random map to ``dim``."""
    if (folder / "modules.json").exists():
        return folder
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    import random_models

    raw = folder / "_hf"
    random_models.write_tokenizer(raw)
    tok = BertTokenizerFast.from_pretrained(str(raw))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    BertModel(cfg).save_pretrained(str(raw))
    transformer = models.Transformer(str(raw), max_seq_length=128)
    pooling = models.Pooling(32, "mean")
    dense = models.Dense(32, dim, activation_function=torch.nn.Identity())
    SentenceTransformer(modules=[transformer, pooling, dense], device="cpu").save(str(folder))
    return folder


def make_data(n_products: int, n_queries: int) -> Path:
    """The synthetic ESCI files (cached): written by synth.py in a child process."""
    out = common.OUT / f"synth-{synth.size_label(n_products)}-{n_queries}q"
    if not (out / synth.EXAMPLES_FILE).exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("synth.py")),
                        "--products", str(n_products), "--queries", str(n_queries),
                        "--out", str(out)], check=True)
    return out


def config(name: str, data: Path, model: Path, args) -> dict:
    return {
        "name": name,
        "data": {"examples": str(data / synth.EXAMPLES_FILE),
                 "products": str(data / synth.PRODUCTS_FILE)},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": "all", "split": "all"},
        "protocol": "catalogue",
        "seeds": list(range(1, args.seeds + 1)),
        "shards": args.shards,
        "latency_queries": args.latency_queries,
        "models": [{"name": "tiny", "kind": "bi-encoder", "path": str(model),
                    "batch_size": args.batch_size, "max_length": args.max_length,
                    "embedding_dtype": args.dtype}],
        "approaches": [{"name": "tiny", "type": "dense", "model": "tiny"},
                       {"name": "bm25", "type": "bm25", "backend": "bm25s"},
                       {"name": "hybrid", "type": "fusion", "runs": ["tiny", "bm25"]}],
    }


def jobs_of(log_text: str) -> list[tuple[str, str]]:
    """(rule, log file) of every job in a snakemake log."""
    out, rule = [], None
    for line in log_text.splitlines():
        m = re.match(r"^(?:local)?rule (\S+):$", line.strip())
        if m:
            rule = m.group(1)
            continue
        m = re.match(r"^log: (\S+)", line.strip())
        if m and rule:
            out.append((rule, m.group(1).split(" ")[0].rstrip(",")))
            rule = None
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1_200_000)
    parser.add_argument("--queries", type=int, default=22_458)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    parser.add_argument("--latency-queries", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of every threaded job (--set-threads); on a machine "
                             "busy with other work 1 avoids OpenMP's spinning threads")
    parser.add_argument("--keep", action="store_true", help="keep results/<name>/")
    parser.add_argument("--resume", action="store_true",
                        help="keep what an interrupted run finished (its jobs' figures come "
                             "from their logs and Snakemake's own logs of the earlier run)")
    args = parser.parse_args(argv)

    label = f"{synth.size_label(args.products)}-{args.queries}q"
    start = time.perf_counter()
    data = make_data(args.products, args.queries)
    model = build_model(common.OUT / f"catalogue-model-{args.dim}", args.dim)
    print(f"data and model ready in {time.perf_counter() - start:.0f} s: {data}", flush=True)

    import yaml

    name = f"bench-catalogue-{label}"
    cfg_file = common.OUT / f"{name}.yaml"
    cfg_file.write_text(yaml.safe_dump(config(name, data, model, args), sort_keys=False))
    if not args.resume:
        shutil.rmtree(REPO / "results" / name, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    env.setdefault("TOKENIZERS_PARALLELISM", "true")
    load_before = os.getloadavg()
    start = time.perf_counter()
    cmd = ["snakemake", "--cores", str(args.cores), "--configfile", str(cfg_file)]
    if args.threads:
        cmd += ["--set-threads"] + [f"{rule}={args.threads}" for rule in THREADED]
    print(" ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    load_after = os.getloadavg()
    log_text = proc.stdout + proc.stderr
    (common.OUT / f"{name}.snakemake.log").write_text(log_text)
    if proc.returncode:
        print(log_text[-4000:])
        raise SystemExit(f"snakemake failed (exit {proc.returncode})")

    if args.resume:  # the jobs of the earlier, interrupted run(s) too
        for earlier in sorted((REPO / ".snakemake" / "log").glob("*.snakemake.log")):
            text = earlier.read_text(errors="replace")
            if f"results/{name}/" in text:
                log_text = text + "\n" + log_text
    rules: dict[str, dict] = {}
    seen_logs: set[str] = set()
    for rule, log in jobs_of(log_text):
        if log in seen_logs:
            continue
        seen_logs.add(log)
        text = (REPO / log).read_text(encoding="utf-8") if (REPO / log).exists() else ""
        m = STEP_DONE.search(text)
        if not m:
            continue
        entry = rules.setdefault(rule, {"jobs": 0, "wall_s": [], "peak_mb": []})
        entry["jobs"] += 1
        entry["wall_s"].append(float(m.group(1)))
        entry["peak_mb"].append(int(m.group(2)))
    print(f"\ncatalogue experiment, {args.products:,} products, {args.queries:,} queries, "
          f"{args.seeds} seed(s), --cores {args.cores}: snakemake wall {wall:.0f} s "
          f"(load average before {load_before[0]:.1f}, after {load_after[0]:.1f})")
    print(f"{'rule':<18} {'jobs':>4} {'wall s (sum)':>12} {'max job s':>10} {'peak MB':>8}")
    for rule, e in rules.items():
        print(f"{rule:<18} {e['jobs']:>4} {sum(e['wall_s']):>12.1f} {max(e['wall_s']):>10.1f} "
              f"{max(e['peak_mb']):>8}")
    peak = max(max(e["peak_mb"]) for e in rules.values())
    print(f"largest job peak: {peak} MB ({'within' if peak <= LIMIT_MB else 'OVER'} 8 GB)")
    result = {"machine": common.machine(), "products": args.products, "queries": args.queries,
              "seeds": args.seeds, "cores": args.cores, "shards": args.shards,
              "dim": args.dim, "dtype": args.dtype, "batch_size": args.batch_size,
              "max_length": args.max_length, "threads": args.threads,
              "latency_queries": args.latency_queries, "snakemake_wall_s": wall,
              "load_average": [load_before[0], load_after[0]], "rules": rules}
    common.save(f"catalogue-{label}", result)
    if not args.keep:
        shutil.rmtree(REPO / "results" / name, ignore_errors=True)


if __name__ == "__main__":
    main()
