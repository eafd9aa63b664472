"""Shipped configs validate and plan; conda env pins agree with pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from shopbench.config import validate
from workflow_runner import REPO, planned_jobs

CONFIGS = [REPO / "config.yaml", *sorted((REPO / "experiments").glob("*.yaml"))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_validates(path):
    config = validate(yaml.safe_load(path.read_text()))
    assert config["approaches"] and config["models"]


def test_seed_experiment_is_the_notebooks(tmp_path):
    config = validate(yaml.safe_load((REPO / "experiments/seed.yaml").read_text()))
    assert config["sampling"] == {"locale": "us", "labels": ["E"], "n_queries": 50,
                                  "n_rows": 500, "on_too_few_queries": "error",
                                  "split": "all", "version": "all"}
    assert config["seeds"] == [42] and config["protocol"] == "seed"
    e5 = next(m for m in config["models"] if m["path"] == "intfloat/e5-small-v2")
    assert (e5["query_prefix"], e5["document_prefix"]) == ("query: ", "passage: ")
    rules = {rule for rule, _ in planned_jobs(tmp_path, REPO / "experiments/seed.yaml")}
    assert {"download_examples", "download_products", "rerank", "fusion"} <= rules


def _pins(lines):
    return dict(re.findall(r"([A-Za-z0-9_.-]+)==([0-9][^\s\"',]*)", lines))


def test_conda_envs_pin_the_same_versions_as_pyproject():
    project = _pins((REPO / "pyproject.toml").read_text())
    # the Lucene engine's pins (envs/lucene.yaml) are those of its requirements file
    project.update(_pins((REPO / "requirements-lucene.txt").read_text()))
    for env in (REPO / "envs").glob("*.yaml"):
        pins = _pins(env.read_text())
        assert pins, env
        for name, version in pins.items():
            assert project.get(name) == version, (env.name, name)


@pytest.mark.parametrize("name", ["seed.yaml", "esci-us-150q.yaml"])
def test_notebook_experiments_keep_bm25_zero_score_padding(name):
    """The experiments that reproduce the notebook pad BM25 with zero scores as it did."""
    config = validate(yaml.safe_load((REPO / "experiments" / name).read_text()))
    bm25 = [a for a in config["approaches"] if a["type"] == "bm25"]
    assert bm25 and all(a["pad_zero_scores"] and a["analyzer"] == {"name": "notebook"}
                        for a in bm25)


def test_every_approach_option_appears_in_an_experiment():
    """Analyzers, field weighting, query normalization steps and fusion settings are each used
    by at least one shipped experiment."""
    seen: set[str] = set()
    for path in CONFIGS:
        config = validate(yaml.safe_load(path.read_text()))
        for model in config["models"]:
            if model.get("fields"):
                seen.add("model.fields")
        for norm in config["query_normalizations"]:
            seen.update(f"step:{s}" for s in norm["steps"])
            seen.add(f"language:{norm['language']}")
        for appr in config["approaches"]:
            if appr["type"] == "bm25":
                seen.add(f"analyzer:{appr['analyzer']['name']}")
                seen.update(f"analyzer-option:{k}" for k, v in appr["analyzer"].items()
                            if k != "name" and v not in (False,) and v != "bigram")
                seen.update({"pad_zero_scores"} if appr["pad_zero_scores"] else set())
                seen.update({"bm25.fields"} if appr["fields"] else set())
            if appr["type"] == "fusion":
                seen.add(f"method:{appr['method']}")
                if appr["method"] != "rrf":
                    seen.add(f"normalization:{appr['normalization']}")
                seen.update({"weights"} if appr["weights"] else set())
            if appr.get("query_normalization"):
                seen.add("query_normalization")
    wanted = {"model.fields", "bm25.fields", "pad_zero_scores", "weights", "query_normalization",
              *(f"analyzer:{a}" for a in ["notebook", "unicode", "english", "spanish",
                                          "japanese"]),
              "analyzer-option:stopwords", "analyzer-option:fold_accents",
              "analyzer-option:method",
              *(f"step:{s}" for s in ["unicode", "spelling", "plurals", "stem", "dictionary"]),
              "language:english", "language:spanish",
              *(f"method:{m}" for m in ["rrf", "combsum", "combmnz"]),
              *(f"normalization:{n}" for n in ["min-max", "z-score", "l2"])}
    assert wanted - seen == set()
