"""No-op cost: `snakemake --cores 2` on an experiment whose results are all up to date.

Runs the experiment once if needed, then times the no-op invocation (and a dry run) several
times; issue 4's goal is under 3 s. Usage: python benchmarks/bench_noop.py [--config X.yaml]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from common import REPO, machine, median_time, save


def snakemake(config: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--configfile", config, "--cores", "2", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    snakemake(args.config)  # make everything up to date (a no-op if it already is)
    noop = snakemake(args.config)
    assert "Nothing to be done" in noop.stdout + noop.stderr, "results are not up to date"
    run_s, run_all, _ = median_time(lambda: snakemake(args.config), args.repeats)
    dry_s, dry_all, _ = median_time(lambda: snakemake(args.config, "--dry-run"), args.repeats)
    print(f"no-op `snakemake --cores 2` ({args.config}): median {run_s:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in run_all)}); goal < 3 s")
    print(f"dry run: median {dry_s:.2f} s (runs: {', '.join(f'{t:.2f}' for t in dry_all)})")
    save("noop", {"config": args.config, "noop_s": run_all, "dry_run_s": dry_all,
                  "machine": machine()})


if __name__ == "__main__":
    main()
