"""Run the real workflow (snakemake in a subprocess) on a config, in a scratch directory."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"


def demo_config(name: str, models: dict[str, Path], **overrides) -> dict:
    """A demo-data config using the tiny models, covering all four approach types."""
    config = {
        "name": name,
        "data": {"examples": str(DEMO / "shopping_queries_dataset_examples.parquet"),
                 "products": str(DEMO / "shopping_queries_dataset_products.parquet")},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": 20, "n_rows": 200},
        "protocol": "judged-pool",
        "seeds": [1],
        "models": [
            {"name": "tiny", "kind": "bi-encoder", "path": str(models["bi"]),
             "query_prefix": "query: ", "document_prefix": "passage: "},
            {"name": "tiny2", "kind": "bi-encoder", "path": str(models["bi2"])},
            {"name": "tiny-ce", "kind": "cross-encoder", "path": str(models["cross"]),
             "max_length": 128},
        ],
        "approaches": [
            {"name": "dense", "type": "dense", "model": "tiny"},
            {"name": "dense2", "type": "dense", "model": "tiny2"},
            {"name": "bm25", "type": "bm25"},
            {"name": "hybrid", "type": "fusion", "runs": ["dense", "bm25"]},
            {"name": "rerank", "type": "rerank", "model": "tiny-ce", "run": "hybrid",
             "depth": 20},
        ],
        "evaluation": {"baseline": "bm25", "bootstrap": 200, "permutations": 1000},
    }
    config.update(copy.deepcopy(overrides))
    return config


def write_config(folder: Path, config: dict, filename: str = "config.yaml") -> Path:
    path = Path(folder) / filename
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def snakemake(workdir: Path, configfile: Path, *args: str, timeout: int = 1800,
              check: bool = True) -> subprocess.CompletedProcess:
    """``snakemake -s REPO/Snakefile -d workdir --configfile configfile ARGS``."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(configfile), *args]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}"
                             f"\n{proc.stderr[-4000:]}")
    return proc


def planned_jobs(workdir: Path, configfile: Path) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run would execute."""
    out = snakemake(workdir, configfile, "--dry-run", "--cores", "1")
    text = out.stdout + out.stderr
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \S+:)", text):
        head = re.match(r"(?:local)?rule (\S+):", block)
        if not head or head.group(1) == "all":
            continue
        wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        jobs.add((head.group(1), wc.group(1).strip() if wc else ""))
    return jobs
