"""End to end: the real workflow on the demo catalogue with tiny models, all approach types;
and the rerun guarantees of issue 4 (what reruns after each kind of config edit)."""

from __future__ import annotations

import filecmp
import json
import shutil

import pandas as pd
import pytest

from workflow_runner import demo_config, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow
APPROACHES = ["dense", "dense2", "bm25", "hybrid", "rerank"]
DETERMINISTIC = ["qrels.tsv", "queries.tsv", "runs/dense.tsv", "runs/dense2.tsv",
                 "runs/bm25.tsv", "runs/hybrid.tsv", "runs/rerank.tsv"]
TOP = ["metrics.csv", "summary.csv", "per_query.csv", "significance.csv",
       "worst_queries.csv", "tables/results.md", "tables/results.tex"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, tiny_models):
    work = tmp_path_factory.mktemp("demo")
    config = demo_config("e2e", tiny_models)
    cfg = write_config(work, config)
    snakemake(work, cfg, "--cores", "2")
    return work, config, cfg


def test_outputs_in_documented_layout(demo_run):
    work, _, _ = demo_run
    res = work / "results" / "e2e"
    for name in DETERMINISTIC + ["corpus.parquet", "embeddings/tiny.npy", "index/tiny.faiss",
                                 "embeddings/tiny2.npy"]:
        assert (res / "seed1" / name).is_file(), name
    for name in TOP + ["latency.csv", "provenance.json", "plots/metrics.png",
                       "plots/per_query_heatmap.png", "plots/quality_latency.png"]:
        assert (res / name).is_file(), name


def test_run_files_cover_every_query(demo_run):
    work, _, _ = demo_run
    seed = work / "results" / "e2e" / "seed1"
    qids = set(pd.read_csv(seed / "queries.tsv", sep="\t")["qid"])
    for approach in APPROACHES:
        run = pd.read_csv(seed / "runs" / f"{approach}.tsv", sep=" ", header=None,
                          names=["qid", "q0", "docid", "rank", "score", "tag"])
        assert set(run["qid"]) == qids, approach
        assert (run["tag"] == approach).all()
        for _, g in run.groupby("qid"):
            assert g["rank"].tolist() == list(range(1, len(g) + 1))
            assert g["score"].is_monotonic_decreasing
    rerank = pd.read_csv(seed / "runs" / "rerank.tsv", sep=" ", header=None)
    assert rerank.groupby(0).size().max() == 20  # depth


def test_metrics_table(demo_run):
    work, _, _ = demo_run
    metrics = pd.read_csv(work / "results" / "e2e" / "metrics.csv")
    assert metrics["approach"].tolist() == APPROACHES
    for col in ["approach", "seed", "n_queries", "hits@1", "hits@5", "hits@10", "mrr",
                "ndcg@10", "recall@10", "map", "mrr_ci_low", "mrr_ci_high"]:
        assert col in metrics.columns
    assert (metrics["mrr_ci_low"] <= metrics["mrr"]).all()
    assert (metrics["mrr"] <= metrics["mrr_ci_high"]).all()
    sig = pd.read_csv(work / "results" / "e2e" / "significance.csv")
    assert set(sig["approach"]) == set(APPROACHES) - {"bm25"}


def test_provenance(demo_run, tiny_models):
    work, config, _ = demo_run
    prov = json.loads((work / "results" / "e2e" / "provenance.json").read_text())
    assert prov["config"]["name"] == "e2e"
    assert prov["packages"]["snakemake"] and prov["python"]
    assert set(prov["models"]) == {"tiny", "tiny2", "tiny-ce"}
    assert len(prov["models"]["tiny"]["weights_sha256"]) == 64
    assert set(prov["data"]) == {config["data"]["examples"], config["data"]["products"]}
    assert prov["workflow_commit"]


def test_report_builds_with_every_plot_and_table(demo_run):
    work, _, cfg = demo_run
    snakemake(work, cfg, "--report", str(work / "report.zip"))
    import zipfile

    names = zipfile.ZipFile(work / "report.zip").namelist()
    for expected in ["metrics.png", "per_query_heatmap.png", "quality_latency.png",
                     "results.md", "results.tex", "metrics.csv", "significance.csv",
                     "worst_queries.csv", "latency.csv", "summary.csv"]:
        assert any(n.endswith(expected) for n in names), expected


def test_report_landing_page_states_experiment_and_table(demo_run):
    work, config, cfg = demo_run
    snakemake(work, cfg, "--report", str(work / "report.html"))
    html = (work / "report.html").read_text(encoding="utf-8")
    line = next(ln for ln in html.splitlines() if "var workflow_desc = " in ln)
    desc = json.loads(line.split("var workflow_desc = ", 1)[1].rstrip().rstrip(";"))
    assert "e2e" in desc and config["protocol"] in desc
    assert config["data"]["examples"] in desc
    table = (work / "results" / "e2e" / "tables" / "results.md").read_text()
    caption = table.strip().splitlines()[-1]
    assert "<table" in desc and caption.split(".")[0] in desc  # "n = ... queries"
    for approach in APPROACHES:
        assert f"<td>{approach}</td>" in desc.replace("<td><p>", "<td>").replace("</p></td>",
                                                                                 "</td>")


def test_clean_runs_are_byte_identical(demo_run, tmp_path):
    work, _, cfg = demo_run
    snakemake(tmp_path, cfg, "--cores", "2")
    a, b = work / "results" / "e2e", tmp_path / "results" / "e2e"
    for name in [f"seed1/{n}" for n in DETERMINISTIC] + TOP:
        assert filecmp.cmp(a / name, b / name, shallow=False), name


# -- what reruns after an edit (issue 4) ------------------------------------------------------
def _plan(work, config, tmp_path):
    return planned_jobs(work, write_config(tmp_path, config, "edited.yaml"))


AGGREGATES = {"aggregate", "latency", "tables", "plots", "provenance"}


def test_no_edit_nothing_to_do(demo_run, tmp_path):
    work, config, _ = demo_run
    assert _plan(work, config, tmp_path) == set()


PRODUCTS = {("encode_products", "corpus=seed1, model=tiny"), ("index", "corpus=seed1, model=tiny")}
QUERIES = {("encode_queries", "seed=1, model=tiny, qset=plain")}


@pytest.mark.parametrize("key, value, encoded", [("document_prefix", "doc: ", PRODUCTS),
                                                 ("query_prefix", "", QUERIES),
                                                 ("max_length", 64, PRODUCTS | QUERIES)])
def test_dense_model_edit_reruns_only_its_branch(demo_run, tmp_path, key, value, encoded):
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    config["models"][0][key] = value
    jobs = _plan(work, config, tmp_path)
    assert {(r, w) for r, w in jobs if r not in AGGREGATES} == encoded | {
        ("dense", "seed=1, approach=dense"), ("fusion", "seed=1, approach=hybrid"),
        ("rerank", "seed=1, approach=rerank"), ("evaluate", "seed=1, approach=dense"),
        ("evaluate", "seed=1, approach=hybrid"), ("evaluate", "seed=1, approach=rerank")}
    assert {r for r, _ in jobs} >= AGGREGATES - {"provenance"}


def test_dense_search_edit_reruns_only_the_search(demo_run, tmp_path):
    """Search needs no model, so a search setting (k) reruns no encoding."""
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    config["approaches"][0]["k"] = 50
    jobs = _plan(work, config, tmp_path)
    assert {(r, w) for r, w in jobs if r not in AGGREGATES} == {
        ("dense", "seed=1, approach=dense"), ("fusion", "seed=1, approach=hybrid"),
        ("rerank", "seed=1, approach=rerank"), ("evaluate", "seed=1, approach=dense"),
        ("evaluate", "seed=1, approach=hybrid"), ("evaluate", "seed=1, approach=rerank")}


def test_added_seed_reruns_only_its_branch(demo_run, tmp_path):
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    config["seeds"] = [1, 2]
    jobs = _plan(work, config, tmp_path)
    per_seed = {(r, w) for r, w in jobs if r not in AGGREGATES}
    # the new seed's jobs, and its own corpus's (corpus=seed2: per-seed protocols)
    assert per_seed and all("seed=2" in w or "corpus=seed2" in w for _, w in per_seed)
    assert {r for r, _ in jobs} - {r for r, _ in per_seed} == AGGREGATES


@pytest.mark.parametrize("extra, encoded", [
    ({"index": "hnsw"}, set()),
    ({"max_length": 64}, {("encode_products", "corpus=seed1, model=tiny-2"),
                          ("encode_queries", "seed=1, model=tiny-2, qset=plain")})])
def test_model_differing_only_in_index_shares_the_encoding(demo_run, tmp_path, extra, encoded):
    """A second model with the first's encoding settings and another index reuses the first's
    embeddings (one encoding, two indexes); one with another max_length is encoded itself."""
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    config["models"].append({**config["models"][0], "name": "tiny-2", **extra})
    config["approaches"].append({"name": "dense-2", "type": "dense", "model": "tiny-2"})
    jobs = {(r, w) for r, w in _plan(work, config, tmp_path) if r not in AGGREGATES}
    assert jobs == encoded | {("index", "corpus=seed1, model=tiny-2"),
                              ("dense", "seed=1, approach=dense-2"),
                              ("evaluate", "seed=1, approach=dense-2")}


@pytest.mark.parametrize("key, value, index", [
    ("k1", 1.2, {("bm25_index", "corpus=seed1, bm25=bm25")}), ("ties", "notebook", set())])
def test_bm25_edit_reruns_bm25_and_dependents(demo_run, tmp_path, key, value, index):
    """k1 is an index setting (its index is rebuilt); ties only a search setting."""
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    config["approaches"][2][key] = value
    jobs = {(r, w) for r, w in _plan(work, config, tmp_path) if r not in AGGREGATES}
    assert jobs == index | {("bm25", "seed=1, approach=bm25"), ("fusion", "seed=1, approach=hybrid"),
                    ("rerank", "seed=1, approach=rerank"),
                    ("evaluate", "seed=1, approach=bm25"),
                    ("evaluate", "seed=1, approach=hybrid"),
                    ("evaluate", "seed=1, approach=rerank")}


def test_fusion_ties_edit_reruns_fusion_and_dependents(demo_run, tmp_path):
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    assert config["approaches"][3]["name"] == "hybrid"
    config["approaches"][3]["ties"] = "notebook"
    jobs = {(r, w) for r, w in _plan(work, config, tmp_path) if r not in AGGREGATES}
    assert jobs == {("fusion", "seed=1, approach=hybrid"), ("rerank", "seed=1, approach=rerank"),
                    ("evaluate", "seed=1, approach=hybrid"),
                    ("evaluate", "seed=1, approach=rerank")}


def test_plot_setting_reruns_only_plots_and_report(demo_run, tmp_path):
    work, config, _ = demo_run
    config = json.loads(json.dumps(config))
    config["report"] = {"dpi": 80}
    assert {r for r, _ in _plan(work, config, tmp_path)} == {"plots", "provenance"}
