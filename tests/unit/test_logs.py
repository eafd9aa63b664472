"""A failed run ends with each failed job's shopbench message (shopbench.logs.failed_job_errors,
called by the Snakefile's onerror), not buried in Snakemake's report of the job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from shopbench.logs import failed_job_errors

REPO = Path(__file__).resolve().parents[2]

SNAKEMAKE_LOG = """\
[Fri Dec  4 21:32:16 2026]
Error in rule sample:
    message: None
    jobid: 7
    input: data/examples.parquet
    output: results/x/seed42/sample.parquet, results/x/seed42/qrels.tsv
    log: {sample_log} (check log file(s) for error details)
[Fri Dec  4 21:32:17 2026]
Error in rule dense:
    jobid: 9
    log: {dense_log}, {other_log} (check log file(s) for error details)
Error in rule bm25:
    jobid: 10
    log: {missing_log} (check log file(s) for error details)
Shutting down, this might take some time.
Exiting because a job execution failed. Look above for error messages
"""


def test_failed_job_errors_names_each_failed_rule_its_message_and_log(tmp_path):
    sample_log, dense_log = tmp_path / "sample.log", tmp_path / "dense.log"
    sample_log.write_text("2026-12-04 21:32:15,608 INFO shopbench: reading\n"
                          "2026-12-04 21:32:15,608 ERROR shopbench: no rows left after "
                          "filtering for locale 'es'\nTraceback (most recent call last):\n"
                          "  ...\nshopbench.errors.ShopbenchError: no rows left\n",
                          encoding="utf-8")
    dense_log.write_text("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                         "ValueError: shapes (3,4) and (5,) not aligned\n", encoding="utf-8")
    log = tmp_path / "snakemake.log"
    log.write_text(SNAKEMAKE_LOG.format(sample_log=sample_log, dense_log=dense_log,
                                        other_log=tmp_path / "other.log",
                                        missing_log=tmp_path / "missing.log"),
                   encoding="utf-8")
    assert failed_job_errors([str(log)]) == [
        f"ERROR shopbench: rule sample failed: no rows left after filtering for locale 'es' "
        f"(log: {sample_log})",
        f"ERROR shopbench: rule dense failed: ValueError: shapes (3,4) and (5,) not aligned "
        f"(log: {dense_log})",
        f"ERROR shopbench: rule bm25 failed: no error in its log (was the job killed?) "
        f"(log: {tmp_path / 'missing.log'})"]
    assert failed_job_errors(str(tmp_path / "no-such.log")) == []


def test_a_failed_job_shows_its_message_at_the_end_of_the_run(tmp_path):
    """A sample job that fails (no row of the slice has locale es): its message comes again
    after Snakemake's report of the failure, among the last lines."""
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["name"] = "failing"
    config["sampling"]["locale"] = "es"
    for key in ("examples", "products"):
        config["data"][key] = str(REPO / config["data"][key])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "-s", str(REPO / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(path)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    tail = proc.stderr.strip().splitlines()[-6:]
    expected = ("ERROR shopbench: rule sample failed: no rows left after filtering for locale "
                "'es' and labels ['E']")
    assert any(line.startswith(expected) for line in tail), "\n".join(tail)
    assert not list((tmp_path / "results" / "failing").glob("seed*/sample.parquet"))
