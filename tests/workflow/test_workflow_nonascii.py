"""The workflow on the Spanish and Japanese fixture (tests/data/nonascii, official ESCI schema,
locale es / jp): non-empty BM25 runs with the right analyzers, and with ``notebook`` on
Japanese and Spanish warnings counted in the log and in provenance.json (texts left with no
token; texts whose non-ASCII letters the notebook's tokenizer drops); fusion falls back to the dense
run where BM25 matches nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workflow_runner import snakemake, write_config

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "nonascii"


def _config(name: str, locale: str, n_rows: int, tiny: Path, approaches: list[dict]) -> dict:
    return {
        "name": name,
        "data": {"examples": str(FIXTURE / "shopping_queries_dataset_examples.tsv"),
                 "products": str(FIXTURE / "shopping_queries_dataset_products.tsv")},
        "sampling": {"locale": locale, "labels": ["E"], "n_queries": 8, "n_rows": n_rows},
        "protocol": "judged-pool",
        "seeds": [1],
        "models": [{"name": "tiny", "kind": "bi-encoder", "path": str(tiny)}],
        "approaches": [{"name": "dense", "type": "dense", "model": "tiny"}, *approaches],
        "evaluation": {"bootstrap": 200, "permutations": 1000},
    }


def _run(res: Path, approach: str) -> pd.DataFrame:
    return pd.read_csv(res / "seed1" / "runs" / f"{approach}.tsv", sep=" ", header=None,
                       names=["qid", "q0", "docid", "rank", "score", "tag"], dtype={"docid": str})


def _exact(res: Path) -> dict[int, set[str]]:
    qrels = pd.read_csv(res / "seed1" / "qrels.tsv", sep=" ", header=None,
                        names=["qid", "it", "docid", "grade"])
    return {q: set(g.loc[g.grade == 3, "docid"]) for q, g in qrels.groupby("qid")}


def test_japanese_analyzers_and_the_notebook_warning(tiny_models, tmp_path):
    approaches = [
        {"name": "bm25-notebook", "type": "bm25"},
        {"name": "bm25-japanese", "type": "bm25", "analyzer": "japanese"},
        {"name": "bm25-sudachi", "type": "bm25", "backend": "bm25s",
         "analyzer": {"name": "japanese", "method": "sudachi"}},
        {"name": "hybrid", "type": "fusion", "runs": ["dense", "bm25-notebook"]},
    ]
    config = _config("jp", "jp", 8, tiny_models["bi"], approaches)
    proc = snakemake(tmp_path, write_config(tmp_path, config), "--cores", "2")
    res = tmp_path / "results" / "jp"
    exact = _exact(res)
    assert len(exact) == 8
    for name in ("bm25-japanese", "bm25-sudachi"):
        run = _run(res, name)
        top = run[run["rank"] == 1].set_index("qid")["docid"]
        assert sorted(top.index) == sorted(exact), name  # a ranking for every query
        assert all(top[q] in exact[q] for q in exact), name  # the Exact product first
    # notebook: no Japanese query has a token, so BM25 returns nothing ...
    assert _run(res, "bm25-notebook").empty
    log = (res / "logs" / "seed1" / "run_bm25-notebook.log").read_text(encoding="utf-8")
    assert "WARNING" in log and "analyzer notebook leaves 8 of 8 queries with no token" in log
    assert "analyzer notebook leaves" in proc.stderr + proc.stdout
    prov = json.loads((res / "provenance.json").read_text(encoding="utf-8"))
    warned = {w["approach"]: w for w in prov["analyzer_warnings"]}
    assert set(warned) == {"bm25-notebook"}
    assert warned["bm25-notebook"]["queries"]["count"] == 8
    assert warned["bm25-notebook"]["queries"]["examples"][0]["text"] in {
        q for q in pd.read_csv(res / "seed1" / "queries.tsv", sep="\t")["query"]}
    assert warned["bm25-notebook"]["products"]["count"] >= 1  # e.g. 抹茶 粉末 京都宇治産
    # products reduced to junk ("ビタミンC 200mg" -> c, 200mg) are counted too, not only empty ones
    dropped = warned["bm25-notebook"]["products"]["dropped_letters"]
    assert dropped["count"] >= warned["bm25-notebook"]["products"]["count"]
    assert all(e["dropped"] for e in dropped["examples"])
    # ... and the hybrid falls back to the dense run
    dense, hybrid = _run(res, "dense"), _run(res, "hybrid")
    assert hybrid["docid"].tolist() == dense["docid"].tolist()


def test_spanish_analyzers_and_fusion_methods(tiny_models, tmp_path):
    approaches = [
        {"name": "bm25-notebook", "type": "bm25"},
        {"name": "bm25-spanish", "type": "bm25",
         "analyzer": {"name": "spanish", "stopwords": True}},
        {"name": "bm25-fields", "type": "bm25", "analyzer": "spanish",
         "fields": {"product_title": 3, "product_brand": 1, "product_description": 0.5}},
        {"name": "bm25-norm", "type": "bm25", "analyzer": "unicode",
         "query_normalization": "es"},
        {"name": "combsum", "type": "fusion", "runs": ["dense", "bm25-spanish"],
         "method": "combsum", "normalization": "min-max", "weights": [0.3, 0.7]},
        {"name": "dense-norm", "type": "dense", "model": "tiny", "query_normalization": "es"},
        {"name": "dense-title", "type": "dense", "model": "tiny-title"},
        {"name": "rerank-norm", "type": "rerank", "model": "ce", "run": "bm25-spanish",
         "depth": 5, "query_normalization": "es"},
    ]
    config = _config("es", "es", 9, tiny_models["bi"], approaches)
    config["models"] += [
        {"name": "tiny-title", "kind": "bi-encoder", "path": str(tiny_models["bi"]),
         "fields": ["product_title"]},
        {"name": "ce", "kind": "cross-encoder", "path": str(tiny_models["cross"])}]
    config["query_normalizations"] = [{"name": "es", "steps": ["unicode", "plurals"],
                                       "language": "spanish"}]
    snakemake(tmp_path, write_config(tmp_path, config), "--cores", "2")
    res = tmp_path / "results" / "es"
    exact = _exact(res)
    for name in ("bm25-spanish", "bm25-fields", "combsum"):
        run = _run(res, name)
        top = run[run["rank"] == 1].set_index("qid")["docid"]
        assert sorted(top.index) == sorted(exact), name
        assert sum(top[q] in exact[q] for q in exact) >= 7, name
    prov = json.loads((res / "provenance.json").read_text(encoding="utf-8"))
    # Spanish text always leaves some token, but the notebook's tokenizer drops its accented
    # letters: every query and product with one is counted (and nothing for the others)
    warned = {w["approach"]: w for w in prov["analyzer_warnings"]}
    assert set(warned) == {"bm25-notebook"}
    queries = pd.read_csv(res / "seed1" / "queries.tsv", sep="\t")["query"]
    accented = sum(any(not c.isascii() and c.isalpha() for c in q) for q in queries)
    assert accented >= 1
    report = warned["bm25-notebook"]
    assert report["queries"]["count"] == 0
    assert report["queries"]["dropped_letters"]["count"] == accented
    assert report["products"]["dropped_letters"]["count"] >= 1
    log = (res / "logs" / "seed1" / "run_bm25-notebook.log").read_text(encoding="utf-8")
    assert f"drops the non-ASCII letters of {accented} of {len(queries)} queries" in log
    norm = pd.read_csv(res / "seed1" / "queries" / "es.tsv", sep="\t", keep_default_na=False)
    row = norm.set_index("original").loc["baterías externas"]
    assert row["query"] == "batería externa" and row["changes"] == (
        "plurals: baterías->batería, externas->externa")
    # dense with normalized queries: its own query embeddings, the model's corpus embeddings
    seed = res / "seed1"
    assert (seed / "query_embeddings" / "tiny.q-es.npy").exists()
    assert not (seed / "query_embeddings" / "tiny-title.q-es.npy").exists()
    plain, normed = np.load(seed / "query_embeddings" / "tiny.plain.npy"), np.load(
        seed / "query_embeddings" / "tiny.q-es.npy")
    changed = (norm["query"] != norm["original"]).to_numpy()
    assert changed.any() and not np.allclose(plain[changed], normed[changed])
    np.testing.assert_array_equal(plain[~changed], normed[~changed])
    # a title-only model embeds other texts than the same model on the corpus text
    assert not np.allclose(np.load(seed / "embeddings" / "tiny.npy"),
                           np.load(seed / "embeddings" / "tiny-title.npy"))
    rerank = _run(res, "rerank-norm")
    assert rerank.groupby("qid").size().max() <= 5 and not rerank.empty
    evals = pd.read_csv(seed / "eval" / "rerank-norm.tsv", sep="\t", keep_default_na=False)
    assert "query_normalized" in evals and "query_normalized" not in pd.read_csv(
        seed / "eval" / "dense.tsv", sep="\t")
    worst = pd.read_csv(res / "worst_queries.csv", keep_default_na=False)
    assert {"query", "query_normalized", "query_changes"} <= set(worst.columns)
    normalized = worst["approach"].isin(["bm25-norm", "dense-norm", "rerank-norm"])
    assert (worst.loc[normalized, "query_normalized"] != "").all()
    assert (worst.loc[~normalized, "query_normalized"] == "").all()
