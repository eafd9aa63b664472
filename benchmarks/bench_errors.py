"""How long a user waits for an expected error: a model that cannot be loaded (offline, and
with the Hugging Face hub unreachable) and a missing data file, each in a fresh process as a
job would meet it. Figures are wall seconds (median of several runs), beside the cost of
importing sentence-transformers alone, which the failures are meant to avoid.
Usage: python benchmarks/bench_errors.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys

from common import REPO, median_time, save

LOAD = ("from shopbench.errors import ShopbenchError\n"
        "from shopbench.models import load_bi_encoder\n"
        "try:\n    load_bi_encoder('nobody/no-such-model', 'm')\n"
        "except ShopbenchError:\n    pass\n")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python(code: str, **env) -> None:
    full = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    full.update(env, PYTHONPATH=str(REPO / "src"))
    subprocess.run([sys.executable, "-c", code], env=full, check=True, capture_output=True)


def dry_run_missing_file(tmp: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"), "-d", tmp,
         "--configfile", str(REPO / "config.yaml"), "--config",
         "data={examples: /no/such/examples.parquet, products: /no/such/products.parquet}"],
        capture_output=True, text=True)
    assert "examples file not found" in proc.stdout + proc.stderr, proc.stderr[-2000:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import tempfile

    cases = {
        "model, HF_HUB_OFFLINE=1": lambda: python(LOAD, HF_HUB_OFFLINE="1"),
        "model, hub unreachable": lambda: python(
            LOAD, HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}"),
        "missing data file (snakemake -n)": lambda: dry_run_missing_file(tempfile.mkdtemp()),
        "import sentence_transformers alone": lambda: python("import sentence_transformers"),
    }
    figures = {}
    for name, fn in cases.items():
        med, runs, _ = median_time(fn, args.repeats)
        figures[name] = runs
        print(f"{name}: median {med:.2f} s (runs: {', '.join(f'{t:.2f}' for t in runs)})")
    save("errors", {"seconds": figures})


if __name__ == "__main__":
    main()
