"""What `pip install` declares is what the code uses: no console script without its module, no
dependency that nothing imports."""

from __future__ import annotations

import importlib
import re
import tomllib
from importlib import metadata

from workflow_runner import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]

#: Pinned although shopbench imports them only through another dependency (each with why).
INDIRECT = {
    "transformers": "the model library under sentence-transformers; pinned for exact reruns",
    "pytrec-eval-terrier": "trec_eval, ir-measures' backend for every metric",
    "accelerate": "transformers' Trainer (under sentence-transformers' trainers) needs it",
}


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported_modules() -> set[str]:
    sources = [REPO / "Snakefile", *(REPO / "src").rglob("*.py"),
               *(REPO / "workflow").rglob("*.py"), *(REPO / "workflow").rglob("*.smk")]
    found = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.M))
        # modules imported by name (importlib.import_module), e.g. packaged model weights
        found |= set(re.findall(r"\"([a-z_][a-z0-9_]*)\", \"get_model_path\"", text))
    return found


def test_console_scripts_resolve():
    for name, target in PROJECT.get("scripts", {}).items():
        module, _, func = target.partition(":")
        assert callable(getattr(importlib.import_module(module), func)), name


def test_every_dependency_is_used():
    modules_of: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            modules_of.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    imported = _imported_modules()
    unused = [req for req in PROJECT["dependencies"]
              if _name(req) not in INDIRECT and not modules_of.get(_name(req), set()) & imported]
    assert unused == [], f"declared but never imported: {unused}"
    for name in INDIRECT:
        assert any(_name(req) == name for req in PROJECT["dependencies"]), name


def _env_pins(name: str) -> dict[str, str]:
    text = (REPO / "envs" / name).read_text(encoding="utf-8")
    return dict(re.findall(r"^\s*-\s*([A-Za-z0-9_.-]+)==(\S+)", text, re.M))


def test_provenance_env_holds_every_recorded_package():
    """Under --sdm conda the provenance job sees only its own env: every package it records
    must be there (shopbench runs from src/; Snakemake's version comes from the running one)."""
    from shopbench.provenance import PACKAGES

    rules = (REPO / "workflow" / "rules" / "report.smk").read_text(encoding="utf-8")
    block = rules[rules.index("rule provenance:"):]
    assert re.search(r'conda:\s*"\.\./\.\./envs/provenance\.yaml"', block)
    pins = _env_pins("provenance.yaml")
    assert sorted(set(PACKAGES) - {"shopbench", "snakemake"} - set(pins)) == []


def test_recorded_versions_without_an_installed_shopbench_or_snakemake():
    from shopbench import __version__
    from shopbench.provenance import package_versions

    versions = package_versions(["shopbench", "snakemake", "numpy", "no-such-package"],
                                snakemake_version="9.99.9")
    assert versions["shopbench"] in (__version__, metadata.version("shopbench"))
    assert versions["snakemake"] == "9.99.9"
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["no-such-package"] is None
