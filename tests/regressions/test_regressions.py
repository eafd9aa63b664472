"""Regressions (as in Anserini): the shipped offline experiments' metrics are checked in under
tests/regressions/<name>.tsv; the cheap experiments are rerun end to end and compared.

See tests/regressions/README.md for what the files hold, how the tolerance was chosen and how to
re-record them.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import yaml

from regressions.record import (COLUMNS, RegressionFileError, compare, default_path,
                                read_expected, read_metrics)
from shopbench.config import validate
from shopbench.metrics import metric_names
from workflow_runner import REPO, snakemake

REGRESSIONS = REPO / "tests" / "regressions"
RECORD = REGRESSIONS / "record.py"
CONFIGS = [REPO / "config.yaml", *sorted((REPO / "experiments").glob("*.yaml"))]
#: Rerun by the slow test (README.md there has every experiment's time); the others are checked
#: in but not rerun.
CHEAP = ["quickstart", "esci-us-150q-seed", "catalogue"]
#: Offline experiments without a file yet, and why (README.md there).
NOT_RECORDED = {"next-steps": "its 3 seeds x 2 models take over an hour on a loaded 2-core "
                              "machine; not yet run to the end for recording"}


def _configs() -> dict[str, tuple[str, dict]]:
    """Experiment name -> (config file, validated config) of every shipped config."""
    out = {}
    for path in CONFIGS:
        config = validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        out[config["name"]] = (str(path.relative_to(REPO)), config)
    return out


CONFIG_BY_NAME = _configs()
#: The experiments that run from the repository alone (no download).
OFFLINE = sorted(n for n, (_, c) in CONFIG_BY_NAME.items() if not c["data"]["download"])
FILES = sorted(p.stem for p in REGRESSIONS.glob("*.tsv"))


def test_every_offline_experiment_has_a_regression_file():
    assert sorted(set(OFFLINE) - set(NOT_RECORDED)) == FILES
    assert set(NOT_RECORDED) <= set(OFFLINE)  # a name here is a shipped experiment
    assert set(CHEAP) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_regression_file_lists_every_approach_seed_and_metric_of_its_config(name):
    _, config = CONFIG_BY_NAME[name]
    expected = read_expected(REGRESSIONS / f"{name}.tsv")
    approaches = [a["name"] for a in config["approaches"]]
    seeds = [str(s) for s in config["seeds"]]
    metrics = ["n_queries", *metric_names(config["evaluation"]["hits_k"])]
    assert sorted(expected) == sorted(itertools.product(approaches, seeds, metrics))
    n_queries = config["sampling"]["n_queries"]
    for (approach, seed, metric), (value, tolerance) in expected.items():
        if metric == "n_queries":
            assert value == n_queries and tolerance == 0, (approach, seed)
        else:
            assert 0.0 <= value <= 1.0, (approach, seed, metric)


# --- the recorder and the comparison ---------------------------------------------------------

METRICS_CSV = ("approach,seed,n_queries,hits@1,mrr,hits@1_ci_low,hits@1_ci_high,mrr_ci_low,"
               "mrr_ci_high\n"
               "bm25,1,50,0.600000,0.752083,0.46,0.72,0.65,0.83\n"
               "bm25,2,50,0.620000,0.700001,0.48,0.74,0.60,0.80\n")


def _record(tmp_path, *args):
    return subprocess.run([sys.executable, str(RECORD), *map(str, args)], capture_output=True,
                          text=True, cwd=tmp_path)


def test_record_writes_point_metrics_as_written(tmp_path):
    results = tmp_path / "results" / "toy"
    results.mkdir(parents=True)
    (results / "metrics.csv").write_text(METRICS_CSV, encoding="utf-8")
    out = tmp_path / "toy.tsv"
    proc = _record(tmp_path, results, "--out", out, "--tolerance", "1e-6")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [
        "\t".join(COLUMNS),
        "bm25\t1\tn_queries\t50\t1e-06", "bm25\t1\thits@1\t0.600000\t1e-06",
        "bm25\t1\tmrr\t0.752083\t1e-06",
        "bm25\t2\tn_queries\t50\t1e-06", "bm25\t2\thits@1\t0.620000\t1e-06",
        "bm25\t2\tmrr\t0.700001\t1e-06"]
    expected = read_expected(out)
    assert expected[("bm25", "2", "mrr")] == (0.700001, 1e-6)
    assert compare(expected, read_metrics(results / "metrics.csv")) == []


def test_record_names_the_file_after_the_results_folder(tmp_path):
    assert default_path(tmp_path / "results" / "judged-pool") == REGRESSIONS / "judged-pool.tsv"
    assert default_path(tmp_path / "results" / "judged-pool" / "..") == REGRESSIONS / "results.tsv"


@pytest.mark.parametrize("content,args,message", [
    (None, [], "metrics.csv: no such file (a finished run's results folder holds metrics.csv)"),
    ("", [], "metrics.csv: empty file"),
    ("approach,seed,mrr\n", [], "metrics.csv: no rows"),
    ("seed,approach,mrr\n1,bm25,0.5\n", [], "metrics.csv must start with columns approach,seed;"
     " got seed,approach"),
    ("approach,seed,mrr\nbm25,1\n", [], "metrics.csv: a row has 2 fields, the header 3: bm25,1"),
    (METRICS_CSV, ["--tolerance", "-1"], "tolerance must be a finite number >= 0, not -1.0"),
    (METRICS_CSV, ["--tolerance", "nan"], "tolerance must be a finite number >= 0, not nan"),
])
def test_record_errors(tmp_path, content, args, message):
    results = tmp_path / "toy"
    results.mkdir()
    if content is not None:
        (results / "metrics.csv").write_text(content, encoding="utf-8")
    proc = _record(tmp_path, results, "--out", tmp_path / "toy.tsv", *args)
    assert proc.returncode == 2
    assert message in proc.stderr


HEADER = "\t".join(COLUMNS) + "\n"


@pytest.mark.parametrize("content,message", [
    ("", "bad.tsv: the header must be approach seed metric expected tolerance (tab-separated)"),
    ("approach,seed,metric,expected,tolerance\n", "bad.tsv: the header must be"),
    (HEADER, "bad.tsv: no rows"),
    (HEADER + "bm25\t1\tmrr\t0.5\n", "bad.tsv line 2: 4 fields, expected 5"),
    (HEADER + "bm25\tone\tmrr\t0.5\t0\n", "bad.tsv line 2: approach and metric must be set and"
     " seed an integer, got 'bm25' 'one' 'mrr'"),
    (HEADER + "\t1\tmrr\t0.5\t0\n", "bad.tsv line 2: approach and metric must be set"),
    (HEADER + "bm25\t1\tmrr\thigh\t0\n", "bad.tsv line 2: expected and tolerance must be "
     "numbers, got 'high' '0'"),
    (HEADER + "bm25\t1\tmrr\t0.5\t-0.1\n", "bad.tsv line 2: expected must be finite and "
     "tolerance finite and >= 0, got 0.5 -0.1"),
    (HEADER + "bm25\t1\tmrr\tnan\t0\n", "bad.tsv line 2: expected must be finite"),
    (HEADER + "bm25\t1\tmrr\t0.5\t0\nbm25\t1\tmrr\t0.6\t0\n",
     "bad.tsv line 3: bm25 1 mrr listed twice"),
])
def test_malformed_regression_file_errors(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegressionFileError) as err:
        read_expected(path)
    assert message in str(err.value)


def test_compare_reports_every_difference_readably():
    expected = {("bm25", "1", "mrr"): (0.5, 0.0), ("bm25", "1", "map"): (0.4, 0.001),
                ("bm25", "1", "hits@1"): (0.6, 0.0), ("dense", "1", "mrr"): (0.7, 0.0)}
    actual = {("bm25", "1", "mrr"): "0.500000", ("bm25", "1", "map"): "0.400900",
              ("bm25", "1", "hits@1"): "0.620000", ("hybrid", "1", "mrr"): "0.8"}
    assert compare(expected, actual) == [
        "missing from the run: dense 1 mrr (expected 0.7)",
        "not in the regression file: hybrid 1 mrr = 0.8",
        "bm25 1 hits@1: expected 0.600000, got 0.620000 (diff +0.020000, tolerance 0)",
    ]
    actual[("bm25", "1", "map")] = "0.401001"
    assert ("bm25 1 map: expected 0.400000, got 0.401001 (diff +0.001001, tolerance 0.001)"
            in compare(expected, actual))
    actual[("bm25", "1", "map")] = "nan"
    assert ("bm25 1 map: expected 0.400000, got nan (diff +nan, tolerance 0.001)"
            in compare(expected, actual))
    actual[("bm25", "1", "map")] = ""
    assert "bm25 1 map: expected 0.400000, got '', not a number" in compare(expected, actual)


# --- the reruns ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", CHEAP)
def test_experiment_reproduces_its_regression_file(name, tmp_path):
    """The shipped config, unchanged, run end to end in a scratch folder (data/ linked in, as
    its paths are relative to the repository) with --cores 2 as recorded."""
    configfile, _ = CONFIG_BY_NAME[name]
    (tmp_path / "data").symlink_to(REPO / "data", target_is_directory=True)
    snakemake(tmp_path, REPO / configfile, "--cores", "2", timeout=1800)
    problems = compare(read_expected(REGRESSIONS / f"{name}.tsv"),
                       read_metrics(tmp_path / "results" / name / "metrics.csv"))
    assert not problems, (f"{configfile} no longer reproduces tests/regressions/{name}.tsv "
                          f"({len(problems)} differences; re-record with "
                          f"tests/regressions/record.py if the change is intended):\n"
                          + "\n".join(problems))
