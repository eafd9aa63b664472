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
