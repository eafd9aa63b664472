"""Helpers shared by the benchmark scripts: timing, machine description, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parents[1]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Wall seconds of one call, and its result."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def median_time(fn, repeats: int) -> tuple[float, list[float], object]:
    """Median wall seconds over ``repeats`` calls, every time, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        seconds, result = timed(fn)
        times.append(seconds)
    return statistics.median(times), times, result


def interleaved(fns: dict, repeats: int) -> dict[str, list[float]]:
    """Run each function once per round, ``repeats`` rounds (so drifts hit all alike)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn)[0])
    return times


def median(values) -> float:
    return statistics.median(values)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    """CPU model, cores, memory, OS, Python and key library versions."""
    info = {"python": platform.python_version(), "os": platform.platform(),
            "cores": os.cpu_count()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                           if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gb"] = round(int(meminfo[1]) / 1024 ** 2, 1)
    except (OSError, StopIteration):
        pass
    for name in ("numpy", "torch", "sentence_transformers", "faiss", "bm25s", "rank_bm25",
                 "snakemake"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "installed")
        except ImportError:
            continue
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    return info


def save(name: str, result: dict, out: Path | None = None) -> Path:
    """Write ``result`` plus the machine description to ``benchmarks/out/<name>.json``."""
    path = out or OUT / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
              "machine": machine(), **result}
    path.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
    return path


def table(rows: list[dict]) -> str:
    """A Markdown table of ``rows`` (dicts with the same keys)."""
    if not rows:
        return ""
    keys = list(rows[0])
    fmt = [[_number(r[k]) if isinstance(r[k], float) else str(r[k]) for k in keys]
           for r in rows]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(row) + " |" for row in fmt]
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
