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
                                  "n_rows": 500, "on_too_few_queries": "error"}
    assert config["seeds"] == [42] and config["protocol"] == "seed"
    e5 = next(m for m in config["models"] if m["path"] == "intfloat/e5-small-v2")
    assert (e5["query_prefix"], e5["document_prefix"]) == ("query: ", "passage: ")
    rules = {rule for rule, _ in planned_jobs(tmp_path, REPO / "experiments/seed.yaml")}
    assert {"download_examples", "download_products", "rerank", "fusion"} <= rules


def _pins(lines):
    return dict(re.findall(r"([A-Za-z0-9_.-]+)==([0-9][^\s\"',]*)", lines))


def test_conda_envs_pin_the_same_versions_as_pyproject():
    project = _pins((REPO / "pyproject.toml").read_text())
    for env in (REPO / "envs").glob("*.yaml"):
        pins = _pins(env.read_text())
        assert pins, env
        for name, version in pins.items():
            assert project.get(name) == version, (env.name, name)
