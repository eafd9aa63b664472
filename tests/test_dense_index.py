"""FAISS indexes: flat (exact) and HNSW (approximate), their config keys and tie-breaking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from shopbench import config, dense, steps
from shopbench.trec import top_k

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors (embeddings have structure; uniform noise is HNSW's worst case)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim))
    x = centres[rng.integers(0, 50, n)] + 0.5 * rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def _exact(emb, docids, q, k):
    order, _ = top_k(emb @ q, docids, k)
    return docids[order].tolist()


def test_hnsw_recall_at_10_against_flat():
    emb = _vectors(5000)
    docids = np.array([f"P{i:05d}" for i in range(len(emb))], dtype=object)
    flat = dense.build_index(emb, "flat")
    hnsw = dense.build_index(emb, "hnsw", hnsw_m=16, ef_construction=100)
    dense.set_ef_search(hnsw, 64)
    queries = _vectors(100, seed=1)
    hits = 0
    for q in queries:
        want, _ = dense._search_one(flat, q[None, :], docids, 10)
        got, got_scores = dense._search_one(hnsw, q[None, :], docids, 10)
        hits += len(set(want) & set(got))
        np.testing.assert_allclose(got_scores, emb[got] @ q, rtol=1e-5)  # exact scores
    assert hits / (10 * len(queries)) >= 0.95


def test_hnsw_ties_are_broken_by_docid():
    emb = np.repeat(_vectors(20), 5, axis=0)  # every vector five times: five-way ties
    docids = np.array([f"D{i:03d}" for i in np.random.default_rng(0).permutation(len(emb))],
                      dtype=object)
    hnsw = dense.build_index(emb, "hnsw", hnsw_m=8, ef_construction=64)
    dense.set_ef_search(hnsw, 200)
    flat = dense.build_index(emb, "flat")
    for q in emb[::5][:5]:
        got, _ = dense._search_one(hnsw, q[None, :], docids, 7)
        want, _ = dense._search_one(flat, q[None, :], docids, 7)
        assert docids[got].tolist() == docids[want].tolist() == _exact(emb, docids, q, 7)


def test_index_step_builds_hnsw_with_settings(tmp_path):
    import faiss

    emb_file = tmp_path / "emb.npy"
    np.save(emb_file, _vectors(500))
    steps.index(str(emb_file), str(tmp_path / "hnsw.faiss"), index="hnsw", hnsw_m=12,
                ef_construction=40)
    idx = faiss.read_index(str(tmp_path / "hnsw.faiss"))
    assert isinstance(idx, faiss.IndexHNSWFlat) and idx.ntotal == 500
    assert idx.hnsw.efConstruction == 40
    dense.set_ef_search(idx, 99)
    assert idx.hnsw.efSearch == 99
    steps.index(str(emb_file), str(tmp_path / "flat.faiss"), index="flat")
    assert isinstance(faiss.read_index(str(tmp_path / "flat.faiss")), faiss.IndexFlatIP)


def test_unknown_index_kind_is_rejected():
    with pytest.raises(ValueError, match="index kind"):
        dense.build_index(_vectors(10), "ivf")


def test_schema_defaults_and_validation():
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    model = config.validate(cfg, SCHEMA)["models"][0]
    assert (model["index"], model["hnsw_m"], model["ef_construction"], model["ef_search"]) == \
        ("flat", 32, 200, 128)
    cfg["models"][0]["index"] = "ivf"
    with pytest.raises(Exception, match="index"):
        config.validate(cfg, SCHEMA)


@pytest.mark.slow
def test_workflow_builds_and_searches_hnsw(tmp_path, tiny_models):
    """index: hnsw on a model reaches the index rule; the dense run searches that index."""
    import subprocess

    import faiss

    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["name"] = "hnsw"
    for key in ("examples", "products"):
        cfg["data"][key] = str(REPO / cfg["data"][key])
    cfg["models"] = [{"name": "tiny", "kind": "bi-encoder", "path": str(tiny_models["bi"]),
                      "index": "hnsw", "hnsw_m": 8, "ef_construction": 32, "ef_search": 16}]
    cfg["approaches"] = [{"name": "tiny", "type": "dense", "model": "tiny", "k": 20}]
    cfg["evaluation"] = {"baseline": "tiny"}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    seed = tmp_path / "results" / "hnsw" / "seed42"
    subprocess.run(["snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
                    "--configfile", str(tmp_path / "config.yaml"), "--cores", "2",
                    "results/hnsw/seed42/runs/tiny.tsv"], check=True, capture_output=True)
    idx = faiss.read_index(str(seed / "index" / "tiny.faiss"))
    assert isinstance(idx, faiss.IndexHNSWFlat) and idx.hnsw.efConstruction == 32
    run = (seed / "runs" / "tiny.tsv").read_text().splitlines()
    assert run and all(len(line.split()) == 6 for line in run)
