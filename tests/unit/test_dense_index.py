"""FAISS indexes (backends flat and hnsw): exact and approximate search, their config keys and
tie-breaking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from shopbench import backends, config, steps
from shopbench.errors import ShopbenchError
from shopbench.trec import top_k

REPO = Path(__file__).resolve().parents[2]
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


def _build(tmp_path, emb, kind, name=None, ef_search=None, docids=None, **settings):
    """An index of ``emb`` built by backend ``kind`` (from an embeddings file) and loaded."""
    name = name or kind
    np.save(tmp_path / f"{name}.npy", emb)
    backends.get(kind).build(str(tmp_path / f"{name}.npy"), str(tmp_path / f"{name}.faiss"),
                             **settings)
    if docids is None:
        docids = np.array([f"P{i:05d}" for i in range(len(emb))], dtype=object)
    return backends.get(kind).load(str(tmp_path / f"{name}.faiss"), docids, ef_search=ef_search)


def test_hnsw_recall_at_10_against_flat(tmp_path):
    emb = _vectors(5000)
    flat = _build(tmp_path, emb, "flat")
    hnsw = _build(tmp_path, emb, "hnsw", ef_search=64, hnsw_m=16, ef_construction=100)
    queries = _vectors(100, seed=1)
    hits = 0
    for q, (batch_pos, batch_scores) in zip(queries, hnsw.batch_search(queries, 10)):
        want, _ = flat.search(q, 10)
        got, got_scores = hnsw.search(q, 10)
        hits += len(set(want) & set(got))
        np.testing.assert_allclose(got_scores, emb[got] @ q, rtol=1e-5)  # exact scores
        assert batch_pos.tolist() == got.tolist()  # a batch search is one query at a time
        np.testing.assert_array_equal(batch_scores, got_scores)
    assert hits / (10 * len(queries)) >= 0.95


def test_ef_search_is_a_search_setting(tmp_path):
    """efSearch is set when the index is loaded (the build does not depend on it); on a sparse
    graph (M 4) a longer candidate list finds more of the exact top 10 (159 vs 424 of 500)."""
    emb = _vectors(3000)
    flat = _build(tmp_path, emb, "flat")
    _build(tmp_path, emb, "hnsw", hnsw_m=4, ef_construction=16)  # one build, two searches
    queries, recall = _vectors(50, seed=2), {}
    for ef in (10, 200):
        hnsw = backends.get("hnsw").load(str(tmp_path / "hnsw.faiss"), np.arange(3000),
                                         ef_search=ef)
        assert hnsw.index.hnsw.efSearch == ef
        recall[ef] = sum(len(set(flat.search(q, 10)[0]) & set(hnsw.search(q, 10)[0]))
                         for q in queries)
    assert recall[200] > recall[10]
    default = backends.get("hnsw").load(str(tmp_path / "hnsw.faiss"), np.arange(3000))
    assert default.index.hnsw.efSearch == 16  # faiss' own default when ef_search is None


def test_hnsw_ties_are_broken_by_docid(tmp_path):
    emb = np.repeat(_vectors(20), 5, axis=0)  # every vector five times: five-way ties
    docids = np.array([f"D{i:03d}" for i in np.random.default_rng(0).permutation(len(emb))],
                      dtype=object)
    hnsw = _build(tmp_path, emb, "hnsw", ef_search=200, docids=docids, hnsw_m=8,
                  ef_construction=64)
    flat = _build(tmp_path, emb, "flat", docids=docids)
    for q in emb[::5][:5]:
        got, _ = hnsw.search(q, 7)
        want, _ = flat.search(q, 7)
        assert docids[got].tolist() == docids[want].tolist() == _exact(emb, docids, q, 7)


def test_flat_search_ties_across_the_cut_are_broken_by_docid(tmp_path):
    """40 equal vectors: the top 3 are the three smallest docids among them, found by growing
    the FAISS depth past k + 8, in a batch search as one query at a time; scores for given
    candidates (task1-rerank) are the exact inner products."""
    emb = _vectors(200)
    emb[50:90] = emb[0]
    docids = np.array([f"D{i:03d}" for i in np.random.default_rng(3).permutation(200)],
                      dtype=object)
    flat = _build(tmp_path, emb, "flat", docids=docids)
    queries = np.vstack([emb[:1], _vectors(5, seed=4)])
    tied = sorted(docids[[0, *range(50, 90)]])
    for pos, scores in [flat.search(queries[0], 3), flat.batch_search(queries, 3)[0]]:
        assert docids[pos].tolist() == tied[:3]
        np.testing.assert_allclose(scores, [1.0] * 3, rtol=1e-5)
    for q, (pos, _) in zip(queries, flat.batch_search(queries, 12, block=2)):
        assert docids[pos].tolist() == _exact(emb, docids, q, 12)
    cands = np.array([3, 60, 199])
    np.testing.assert_allclose(flat.score(queries[1], cands), emb[cands] @ queries[1],
                               rtol=1e-6)
    assert flat.score(queries[1], np.zeros(0, np.int64)).shape == (0,)


def test_index_step_builds_hnsw_with_settings(tmp_path):
    import faiss

    emb_file = tmp_path / "emb.npy"
    np.save(emb_file, _vectors(500))
    steps.index(embeddings=str(emb_file), index_out=str(tmp_path / "hnsw.faiss"), index="hnsw",
                hnsw_m=12, ef_construction=40)
    idx = faiss.read_index(str(tmp_path / "hnsw.faiss"))
    assert isinstance(idx, faiss.IndexHNSWFlat) and idx.ntotal == 500
    assert idx.hnsw.efConstruction == 40 and idx.hnsw.nb_neighbors(0) == 2 * 12
    loaded = backends.get("hnsw").load(str(tmp_path / "hnsw.faiss"), np.arange(500),
                                       ef_search=99)
    assert loaded.index.hnsw.efSearch == 99
    # the rule passes None for the HNSW settings of a flat index
    steps.index(embeddings=str(emb_file), index_out=str(tmp_path / "flat.faiss"), index="flat",
                hnsw_m=None, ef_construction=None)
    assert isinstance(faiss.read_index(str(tmp_path / "flat.faiss")), faiss.IndexFlatIP)


def test_unknown_index_kind_is_rejected(tmp_path):
    np.save(tmp_path / "emb.npy", _vectors(10))
    with pytest.raises(ValueError, match=r"unknown backend 'ivf'; use one of \['bm25s', "
                                         r"'flat', 'hnsw', 'lucene', 'lucene_hnsw', "
                                         r"'maxsim', 'rank_bm25'\]"):
        steps.index(embeddings=str(tmp_path / "emb.npy"), index_out=str(tmp_path / "i.faiss"),
                    index="ivf")
    assert not (tmp_path / "i.faiss").exists()


def test_bad_embeddings_and_stale_indexes_are_rejected(tmp_path):
    np.save(tmp_path / "none.npy", np.zeros((0, 8), np.float32))
    with pytest.raises(ShopbenchError, match=r"none\.npy holds no embeddings"):
        steps.index(embeddings=str(tmp_path / "none.npy"), index_out=str(tmp_path / "n.faiss"))
    np.save(tmp_path / "flat1d.npy", np.zeros(8, np.float32))
    with pytest.raises(ShopbenchError, match=r"flat1d\.npy: expected a C-ordered 2-D matrix, "
                                             r"found \(8,\)"):
        steps.index(embeddings=str(tmp_path / "flat1d.npy"), index_out=str(tmp_path / "n.faiss"))
    assert not (tmp_path / "n.faiss").exists()
    _build(tmp_path, _vectors(10), "flat")
    with pytest.raises(ShopbenchError, match="the index holds 10 vectors for 9 products; "
                                             "delete it and rerun"):
        backends.get("flat").load(str(tmp_path / "flat.faiss"), np.arange(9))


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
