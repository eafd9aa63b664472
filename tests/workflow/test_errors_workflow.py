"""What a user sees when `snakemake` meets bad data: missing files and missing columns stop the
workflow when it is parsed (before any job, even `-n`) with the documented message; a bad-input
error inside a job reaches the terminal as its message alone, with the traceback in the job's
log only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from shopbench.data import check_files
from shopbench.errors import ShopbenchError
from workflow_runner import DEMO, snakemake, write_config

EXAMPLES = DEMO / "shopping_queries_dataset_examples.parquet"
PRODUCTS = DEMO / "shopping_queries_dataset_products.parquet"
FIELDS = ["product_title", "product_brand", "product_bullet_point", "product_description"]


def config_for(examples: Path, products: Path, **extra) -> dict:
    """A config on the given files (its model is never loaded by these tests)."""
    return {"name": "bad", "data": {"examples": str(examples), "products": str(products)},
            "sampling": {"n_queries": 5, "n_rows": 50}, "protocol": "judged-pool",
            "seeds": [1], "models": [{"name": "m", "kind": "bi-encoder", "path": "some/model"}],
            "approaches": [{"name": "dense", "type": "dense", "model": "m"},
                           {"name": "bm25", "type": "bm25"}], **extra}


def fails_at_parse_time(tmp_path: Path, config: dict, message: str) -> str:
    proc = snakemake(tmp_path, write_config(tmp_path, config), "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(message, out), out[-3000:]
    assert out.strip().splitlines()[-1].startswith("ERROR shopbench: ")  # one line, the last
    assert "MissingInputException" not in out and "Traceback" not in out
    assert not (tmp_path / "results").exists()
    return out


# -- at parse time ------------------------------------------------------------------------------
@pytest.mark.parametrize("what", ["examples", "products"])
def test_missing_file_is_reported_before_any_job(tmp_path, what):
    files = {"examples": EXAMPLES, "products": PRODUCTS, what: tmp_path / "nope.parquet"}
    fails_at_parse_time(tmp_path, config_for(files["examples"], files["products"]),
                        rf"{what} file not found: \S*nope\.parquet\. Set data\.{what} in the "
                        rf"config to an existing file, or set data\.download: true")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "tsv"])
def test_examples_missing_columns_reported_from_the_header(tmp_path, fmt):
    df = pd.read_parquet(EXAMPLES).drop(columns=["esci_label", "query"])
    path = tmp_path / f"ex.{fmt}"
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    fails_at_parse_time(tmp_path, config_for(path, PRODUCTS),
                        rf"examples file \S*ex\.{fmt} lacks required column\(s\) query, "
                        r"esci_label; expected the esci-data schema")


def test_products_missing_columns_reported_from_the_parquet_footer(tmp_path):
    path = tmp_path / "products.parquet"
    pd.read_parquet(PRODUCTS).drop(columns=["product_title", "product_locale"]).to_parquet(path)
    fails_at_parse_time(tmp_path, config_for(EXAMPLES, path),
                        r"products file \S*products\.parquet lacks required column\(s\) "
                        r"product_locale, product_title; expected the esci-data schema")


def test_a_text_field_missing_from_products_is_reported(tmp_path):
    """Columns named in text.fields are required too (product_brand is a default field)."""
    path = tmp_path / "products.parquet"
    pd.read_parquet(PRODUCTS).drop(columns=["product_brand"]).to_parquet(path)
    fails_at_parse_time(tmp_path, config_for(EXAMPLES, path),
                        r"products file \S* lacks the product text column\(s\) product_brand "
                        r"of the fields the corpus text is built from")
    check_files(EXAMPLES, path, ["product_title", "product_description"])  # not asked for


def test_titles_only_products_suggest_text_fields_at_parse_time(tmp_path):
    path = tmp_path / "products.csv"
    pd.read_parquet(PRODUCTS)[["product_id", "product_locale", "product_title"]].to_csv(
        path, index=False)
    fails_at_parse_time(tmp_path, config_for(EXAMPLES, path),
                        r"products file \S*products\.csv lacks the product text column\(s\) "
                        r"product_brand, product_bullet_point, product_description .*; it has "
                        r"product_title\. Set text\.fields to the columns it has, e\.g\. "
                        r"text\.fields: \[product_title\]")
    check_files(EXAMPLES, path, ["product_title"])  # what the message suggests passes


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_header_only_examples_file_is_reported_at_parse_time(tmp_path, fmt):
    path = tmp_path / f"ex.{fmt}"
    empty = pd.read_parquet(EXAMPLES).iloc[:0]
    empty.to_parquet(path) if fmt == "parquet" else empty.to_csv(path, index=False)
    fails_at_parse_time(tmp_path, config_for(path, PRODUCTS),
                        rf"examples file \S*ex\.{fmt} has no rows, only its column names; "
                        r"point data\.examples at a file with data rows")


def test_a_plain_run_names_no_empty_profile(tmp_path):
    """The workflow ships no workflow profile (an empty profiles/default made every command
    print 'Using workflow specific profile profiles/default' for no settings)."""
    proc = snakemake(tmp_path, write_config(tmp_path, config_for(EXAMPLES, PRODUCTS)), "-n")
    out = proc.stdout + proc.stderr
    assert "profile" not in out.lower(), out[-3000:]
    assert "sample" in out  # the plan was printed


def test_download_true_skips_the_check(tmp_path):
    """With data.download the files are the download rules' outputs: no check at parse time."""
    config = config_for(tmp_path / "ex.parquet", tmp_path / "pr.parquet")
    config["data"].update(download=True, examples_url="http://127.0.0.1:9/ex.parquet",
                          products_url="http://127.0.0.1:9/pr.parquet")
    proc = snakemake(tmp_path, write_config(tmp_path, config), "-n", check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "download_examples" in proc.stdout + proc.stderr


def test_check_files_reads_only_the_header(tmp_path):
    """A file with the right header but broken content passes the early check (the job that
    reads it reports the content), and the committed files pass."""
    check_files(EXAMPLES, PRODUCTS, FIELDS)
    path = tmp_path / "ex.csv"
    path.write_text("query_id,query,product_id,product_locale,esci_label\n1,a,P1,us,X\n")
    check_files(path, PRODUCTS, FIELDS)
    (tmp_path / "ex.json").write_text("{}")
    with pytest.raises(ShopbenchError, match=r"examples file \S*ex\.json must end in "
                                             r"\.parquet, \.csv or \.tsv"):
        check_files(tmp_path / "ex.json", PRODUCTS)


# -- inside a job -------------------------------------------------------------------------------
def test_job_error_shows_the_message_alone_and_logs_the_traceback(tmp_path):
    """An unknown label passes the header check and stops the sample job."""
    df = pd.read_parquet(EXAMPLES)
    df.loc[df.index[3], "esci_label"] = "X"
    path = tmp_path / "ex.parquet"
    df.to_parquet(path, index=False)
    configfile = write_config(tmp_path, config_for(path, PRODUCTS))
    proc = snakemake(tmp_path, configfile, "--cores", "1", "results/bad/seed1/qrels.tsv",
                     check=False)
    out = proc.stdout + proc.stderr
    message = (rf"examples file \S*ex\.parquet: column esci_label holds \['X'\]; expected only "
               r"E, S, C, I\.")
    assert proc.returncode != 0
    assert re.search(r"ERROR shopbench: " + message, out), out[-3000:]
    assert "Traceback" not in out and "ShopbenchError" not in out, out[-3000:]
    log = (tmp_path / "results/bad/logs/seed1/sample.log").read_text(encoding="utf-8")
    assert re.search(message, log)
    assert "Traceback (most recent call last)" in log and "ShopbenchError" in log
    assert not (tmp_path / "results/bad/seed1/qrels.tsv").exists()


# -- no noise that reads like an error ----------------------------------------------------------
def test_step_output_has_no_library_noise_but_keeps_warnings(tmp_path, tiny_models):
    """faiss's loader INFO lines ("Could not load library with AVX2 support") and the
    "Loading weights" bar of a local model stay out of a step's output; real warnings do not."""
    log = tmp_path / "step.log"
    code = ("import logging\n"
            "from shopbench.logs import step_logging\n"
            f"with step_logging([{str(log)!r}]):\n"
            "    import faiss\n"
            "    from shopbench.models import load_bi_encoder\n"
            f"    load_bi_encoder({str(tiny_models['bi'])!r}, 'm')\n"
            "    logging.getLogger('faiss.loader').warning('a real warning')\n"
            "    logging.getLogger('shopbench').info('step info')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in (proc.stderr, log.read_text(encoding="utf-8")):
        assert "AVX2" not in text and "faiss.loader: Loading" not in text, text
        assert "Loading weights" not in text, text
        assert "WARNING faiss.loader: a real warning" in text and "step info" in text
