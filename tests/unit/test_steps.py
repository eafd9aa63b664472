"""The one way rules call steps: shopbench.steps.arguments / run (workflow/scripts/step.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopbench import steps

REPO = Path(__file__).resolve().parents[2]


def test_arguments_pass_inputs_outputs_params_wildcards_and_threads_by_name():
    kwargs = steps.arguments(
        steps.bm25,
        inputs={"index": ["i"], "corpus": "c.parquet", "queries": ["q.tsv"], "normalized": [],
                "candidates": []},
        outputs={"run": "r.tsv", "latency": "l.tsv", "analysis": "a.json"},
        params={"k": 100, "backend": "bm25s", "analyzer": "notebook"},
        wildcards={"seed": "42", "approach": "bm25"}, threads=3)
    assert kwargs == {"index": "i", "corpus": "c.parquet", "queries": "q.tsv", "normalized": None,
                      "candidates": None, "run_out": "r.tsv", "latency_out": "l.tsv",
                      "analysis_out": "a.json", "k": 100, "backend": "bm25s",
                      "analyzer": "notebook", "approach": "bm25", "threads": 3}  # no seed
    # the rule's memory reaches a step that takes it (the Lucene engine's -Xmx)
    kwargs = steps.arguments(steps.bm25, inputs={}, outputs={}, params={}, wildcards={},
                             threads=1, mem_mb=2048)
    assert kwargs["mem_mb"] == 2048
    assert "mem_mb" not in steps.arguments(steps.fusion, inputs={}, outputs={}, params={},
                                           wildcards={}, threads=1, mem_mb=2048)


def test_list_inputs_stay_lists_and_numeric_wildcards_become_numbers():
    kwargs = steps.arguments(steps.fusion, inputs={"runs": ["a.tsv"]},
                             outputs={"run": "f.tsv", "latency": "l.tsv"}, params={"k": 60},
                             wildcards={"seed": "7", "approach": "hybrid"}, threads=1)
    assert kwargs["runs"] == ["a.tsv"] and kwargs["approach"] == "hybrid"
    kwargs = steps.arguments(steps.evaluate, inputs={"run": ["r"]}, outputs={"eval": "e"},
                             params={}, wildcards={"seed": "7", "approach": "x"}, threads=1)
    assert kwargs["seed"] == 7 and kwargs["eval_out"] == "e"


def _rules():
    """rule name -> its block of text, for every rule of workflow/rules."""
    found = {}
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        for m in re.finditer(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule \w+:|\Z)", text, re.S | re.M):
            found[m.group(1)] = m.group(2)
    return found


def test_every_rule_runs_a_step_and_every_step_has_a_rule():
    rules = _rules()
    scripted = {name for name, body in rules.items() if "scripts/step.py" in body}
    assert scripted == set(rules) - {"all"}
    # download rules are made in a loop (name: f"download_{what}")
    assert set(steps.STEPS) - {"download"} >= scripted
    assert {name for name in steps.STEPS if not name.startswith("download")} <= scripted


def test_every_step_writes_each_output_of_its_rule():
    for name, body in _rules().items():
        if name not in steps.STEPS:
            continue
        out = re.search(r"^( +)output:\n(.*?)(?=^\1\w+:|\Z)", body, re.S | re.M)
        indent = len(out.group(1)) + 4
        names = re.findall(rf"^ {{{indent}}}(\w+)=", out.group(2), re.M)
        assert names or "**" in out.group(2), name
        accepted = set(steps.STEPS[name].__code__.co_varnames)
        for output in names:
            assert f"{output}_out" in accepted, (name, output)


def test_an_unknown_rule_is_a_clear_error():
    class Job:
        rule = "nope"

    with pytest.raises(KeyError, match="nope"):
        steps.run(Job())
