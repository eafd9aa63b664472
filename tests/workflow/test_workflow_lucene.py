"""The Lucene engine through the workflow, on the Spanish fixture: Lucene BM25 with Lucene's
Spanish analyzer, Lucene HNSW against FAISS flat on the same model, OpenSearch's hybrid, the
JVM's memory from the job's mem_mb and no Java INFO logs; reruns give the same runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from workflow_runner import snakemake, write_config

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "nonascii"


def _run(res: Path, approach: str) -> pd.DataFrame:
    return pd.read_csv(res / "seed1" / "runs" / f"{approach}.tsv", sep=" ", header=None,
                       names=["qid", "q0", "docid", "rank", "score", "tag"], dtype={"docid": str})


def test_lucene_backends_through_the_workflow(tiny_models, tmp_path):
    config = {
        "name": "lucene",
        "data": {"examples": str(FIXTURE / "shopping_queries_dataset_examples.tsv"),
                 "products": str(FIXTURE / "shopping_queries_dataset_products.tsv")},
        "sampling": {"locale": "es", "labels": ["E"], "n_queries": 8, "n_rows": 40},
        "protocol": "judged-pool",
        "seeds": [1],
        "models": [
            {"name": "flat", "kind": "bi-encoder", "path": str(tiny_models["bi"])},
            {"name": "lhnsw", "kind": "bi-encoder", "path": str(tiny_models["bi"]),
             "index": "lucene_hnsw", "hnsw_m": 16, "ef_construction": 100, "ef_search": 100},
        ],
        "approaches": [
            {"name": "dense-flat", "type": "dense", "model": "flat"},
            {"name": "dense-lucene", "type": "dense", "model": "lhnsw"},
            {"name": "bm25-es", "type": "bm25", "backend": "lucene",
             "analyzer": {"name": "lucene", "language": "es"}, "k1": 0.9, "b": 0.4},
            {"name": "opensearch", "type": "fusion", "runs": ["dense-lucene", "bm25-es"],
             "method": "combsum", "normalization": "min-max-opensearch",
             "weights": [0.5, 0.5]},
        ],
        "evaluation": {"bootstrap": 200, "permutations": 1000},
    }
    configfile = write_config(tmp_path, config)
    args = ("--cores", "2", "--default-resources", "mem_mb=1024")
    proc = snakemake(tmp_path, configfile, *args)
    res = tmp_path / "results" / "lucene"
    bm25 = _run(res, "bm25-es")
    assert bm25["qid"].nunique() == 8  # every Spanish query finds products
    # HNSW over a handful of products finds what exact search finds, in the same order
    flat, lucene = _run(res, "dense-flat"), _run(res, "dense-lucene")
    assert lucene[["qid", "docid", "rank"]].equals(flat[["qid", "docid", "rank"]])
    assert not _run(res, "opensearch").empty
    logs = "".join(p.read_text(encoding="utf-8") for p in (res / "logs").rglob("*.log"))
    assert "lucene index:" in logs and "Lucene 9." in logs
    heaps = [int(h) for h in re.findall(r"JVM: Java \d+ .*, max heap (\d+) MB", logs)]
    assert len(heaps) >= 4 and all(900 <= h <= 1024 for h in heaps), heaps  # -Xmx1024m
    assert "io.anserini" not in logs + proc.stdout + proc.stderr  # no Java INFO logs
    # a clean rerun gives the same runs, byte for byte
    first = {p.name: p.read_bytes() for p in (res / "seed1" / "runs").glob("*.tsv")}
    shutil.rmtree(tmp_path / "results")
    snakemake(tmp_path, configfile, *args)
    again = {p.name: p.read_bytes() for p in (res / "seed1" / "runs").glob("*.tsv")}
    assert again == first
