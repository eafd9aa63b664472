"""Sharded encoding and reranking: parts merge into the unsharded outputs, byte for byte.

Also: shards: 1 adds no job, and model rules ask for a GPU only under device: cuda.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopbench import shards as S
from shopbench import steps, trec
from shopbench.errors import ShopbenchError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"


# -- plan and merge helpers -----------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 5, 17])
@pytest.mark.parametrize("shards", [1, 2, 3, 8])
def test_shard_bounds_split_contiguously(n, shards):
    bounds = [S.shard_bounds(n, i, shards) for i in range(shards)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("shard, shards", [(0, 0), (2, 2), (-1, 3)])
def test_shard_bounds_reject_missing_shards(shard, shards):
    with pytest.raises(ShopbenchError, match="does not exist"):
        S.shard_bounds(10, shard, shards)


def test_batch_plan_is_longest_first_and_stable():
    texts = ["aa", "a", "bbbb", "cc", "dddd", "e"]
    plan = S.batch_plan([len(t) for t in texts], 4)
    assert [b.tolist() for b in plan] == [[2, 4, 0, 3], [1, 5]]
    assert S.batch_plan([], 4) == []


def _parts(folder: Path, *parts) -> list[str]:
    """(rows, embeddings) pairs saved as encode shard files; their paths."""
    paths = []
    for i, (rows, emb) in enumerate(parts):
        path = folder / f"part{i}.npz"
        S.save_part(str(path), rows=np.asarray(rows, dtype=np.int64), embeddings=emb)
        paths.append(str(path))
    return paths


def test_merge_embeddings_checks_the_rows(tmp_path):
    emb = np.arange(6, dtype=np.float32).reshape(3, 2)
    empty = (np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
    parts = _parts(tmp_path, ([2, 0], emb[:2]), ([1], emb[2:]), empty)
    steps.merge_embeddings(parts=parts, embeddings_out=str(tmp_path / "out.npy"))
    merged = np.load(tmp_path / "out.npy")
    assert merged.tolist() == [[2, 3], [4, 5], [0, 1]] and merged.dtype == np.float32
    for bad in (_parts(tmp_path, ([0, 0], emb[:2])),  # a row twice
                _parts(tmp_path, ([0, 2], emb[:2]))):  # a row missing (row 2 of 2 rows)
        with pytest.raises(ShopbenchError, match="embedding shards do not cover the corpus "
                                                 "rows exactly once; delete the shard files "
                                                 "and rerun"):
            steps.merge_embeddings(parts=bad, embeddings_out=str(tmp_path / "bad.npy"))
    for bad in ([], _parts(tmp_path, empty)):
        with pytest.raises(ShopbenchError, match="embedding shards do not cover every corpus "
                                                 "row; delete the shard files and rerun"):
            steps.merge_embeddings(parts=bad, embeddings_out=str(tmp_path / "bad.npy"))
    assert not (tmp_path / "bad.npy").exists()


def test_a_part_holds_rows_and_embeddings_only(tmp_path):
    with pytest.raises(ValueError, match=r"a part holds exactly \('rows', 'embeddings'\), not "
                                         r"\['embeddings', 'query_rows', 'rows'\]"):
        S.save_part(str(tmp_path / "p.npz"), rows=np.zeros(0), embeddings=np.zeros((0, 0)),
                    query_rows=np.zeros(0))
    assert not (tmp_path / "p.npz").exists()


def test_concat_files_keeps_one_header(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_text("qid\tseconds\n1\t0.5\n")
    b.write_text("qid\tseconds\n2\t0.25\n")
    c.write_text("other\n3\n")
    S.concat_files([a, b], tmp_path / "out", header=True)
    assert (tmp_path / "out").read_text() == "qid\tseconds\n1\t0.5\n2\t0.25\n"
    S.concat_files([a, b], tmp_path / "raw")
    assert (tmp_path / "raw").read_text() == a.read_text() + b.read_text()
    with pytest.raises(ShopbenchError, match="header"):
        S.concat_files([a, c], tmp_path / "bad", header=True)


# -- steps: sharded == unsharded ------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    """60 demo products whose texts vary in length (so length-sorted batches matter)."""
    products = pd.read_parquet(DEMO / "shopping_queries_dataset_products.parquet")
    products = products[products["product_locale"] == "us"].head(60)
    text = (products["product_title"] + " " + products["product_description"].fillna("")).tolist()
    text = [t[: 20 + 7 * i] for i, t in enumerate(text)]
    corp = pd.DataFrame({"docid": products["product_id"].to_numpy(),
                         "title": products["product_title"].to_numpy(), "text": text})
    path = tmp_path_factory.mktemp("corpus") / "corpus.parquet"
    corp.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def queries_file(tmp_path_factory) -> Path:
    queries = pd.DataFrame({"qid": [3, 5, 8, 13, 21], "query": ["red shoe", "usb cable",
                                                               "lamp", "dog toy", "mug"]})
    path = tmp_path_factory.mktemp("queries") / "queries.tsv"
    trec.write_tsv(queries, path)
    return path


def _encode(corpus_file, model, folder, shard=None, shards=1, **opts) -> Path:
    """steps.encode_products into ``folder``: the matrix, or part ``shard`` of ``shards``."""
    out = folder / ("emb.npy" if shard is None else f"part{shard}.npz")
    key = "embeddings_out" if shard is None else "part_out"
    steps.encode_products(corpus=str(corpus_file), path=str(model), model="bi",
                          document_prefix="p: ", batch_size=8, max_length=64, device="cpu",
                          threads=1, shard=shard or 0, shards=shards, **{key: str(out)}, **opts)
    return out


def _encode_queries(queries_file, model, folder) -> tuple[Path, Path]:
    """steps.encode_queries into ``folder``: the query matrix and each query's seconds."""
    emb, seconds = folder / "q.npy", folder / "q.tsv"
    steps.encode_queries(queries=str(queries_file), embeddings_out=str(emb),
                         seconds_out=str(seconds), path=str(model), model="bi",
                         query_prefix="q: ", max_length=64, device="cpu", threads=1)
    return emb, seconds


def test_encode_products_embeds_the_corpus(tmp_path, tiny_models, corpus_file):
    """The corpus in length-sorted batches, with the document prefix, in corpus order."""
    from sentence_transformers import SentenceTransformer

    out = _encode(corpus_file, tiny_models["bi"], tmp_path)
    model = SentenceTransformer(str(tiny_models["bi"]), device="cpu")
    model.max_seq_length = 64
    texts = pd.read_parquet(corpus_file)["text"].tolist()
    expected = model.encode(["p: " + t for t in texts], batch_size=8, normalize_embeddings=True)
    emb = np.load(out)
    assert emb.shape == (60, 32) and emb.dtype == np.float32
    assert np.allclose(emb, expected, atol=1e-5)


def test_encode_queries_embeds_each_query_alone(tmp_path, tiny_models, queries_file):
    """The queries one at a time, with the query prefix; each query's seconds."""
    from sentence_transformers import SentenceTransformer

    emb_file, seconds_file = _encode_queries(queries_file, tiny_models["bi"], tmp_path)
    model = SentenceTransformer(str(tiny_models["bi"]), device="cpu")
    model.max_seq_length = 64
    queries = trec.read_queries(queries_file)
    qemb = np.load(emb_file)
    assert qemb.shape == (5, 32) and qemb.dtype == np.float32
    for i, query in enumerate(queries["query"]):
        expected = model.encode(["q: " + query], batch_size=1, normalize_embeddings=True)
        assert np.allclose(qemb[i], expected[0], atol=1e-6), query
    seconds = pd.read_csv(seconds_file, sep="\t")
    assert seconds["qid"].tolist() == queries["qid"].tolist()
    assert (seconds["seconds"] > 0).all()


@pytest.mark.parametrize("shards, dtype", [(2, "float32"), (3, "float32"), (20, "float32"),
                                           (3, "float16")])
def test_sharded_encoding_is_byte_identical(tmp_path, tiny_models, corpus_file, shards, dtype):
    """The merged corpus matrix is the unsharded one; 20 shards of 8 batches leave some parts
    empty."""
    whole = _encode(corpus_file, tiny_models["bi"], tmp_path, dtype=dtype)
    parts = [_encode(corpus_file, tiny_models["bi"], tmp_path, i, shards, dtype=dtype)
             for i in range(shards)]
    sizes = [len(S.load_part(str(p))["rows"]) for p in parts]
    assert sum(sizes) == 60 and (shards < 8 or 0 in sizes)
    steps.merge_embeddings(parts=[str(p) for p in parts],
                           embeddings_out=str(tmp_path / "merged.npy"))
    assert np.load(whole).shape == (60, 32) and np.load(whole).dtype == np.dtype(dtype)
    assert (tmp_path / "merged.npy").read_bytes() == whole.read_bytes()


def test_stale_embeddings_are_rejected(tmp_path, tiny_models, corpus_file, queries_file):
    """Query vectors that do not match the queries file (a stale or foreign file) stop the
    dense step, and shards that miss a part stop the merge, with what to delete; neither
    writes anything."""
    emb = _encode(corpus_file, tiny_models["bi"], tmp_path)
    qemb, qsec = _encode_queries(queries_file, tiny_models["bi"], tmp_path)
    steps.index(embeddings=str(emb), index_out=str(tmp_path / "flat.faiss"))
    for name, frame in [("other", trec.read_queries(queries_file).iloc[::-1]),
                        ("fewer", trec.read_queries(queries_file).head(4))]:
        other = tmp_path / f"{name}.tsv"
        trec.write_tsv(frame, other)
        with pytest.raises(ShopbenchError, match=rf"q\.npy does not hold the queries of "
                                                 rf".*{name}\.tsv in order; delete it and "
                                                 rf"rerun"):
            steps.dense(index=str(tmp_path / "flat.faiss"), query_embeddings=str(qemb),
                        query_seconds=str(qsec), corpus=str(corpus_file), queries=str(other),
                        run_out=str(tmp_path / "run.tsv"), latency_out=str(tmp_path / "lat.tsv"),
                        approach="bi", k=10)
    parts = [_encode(corpus_file, tiny_models["bi"], tmp_path, i, 3) for i in range(3)]
    with pytest.raises(ShopbenchError, match="embedding shards do not cover the corpus rows "
                                             "exactly once; delete the shard files and rerun"):
        steps.merge_embeddings(parts=[str(parts[0]), str(parts[2])],
                               embeddings_out=str(tmp_path / "m.npy"))
    assert not [p for p in tmp_path.iterdir() if p.name in ("run.tsv", "lat.tsv", "m.npy")]


def test_dense_search_needs_no_model(tmp_path, tiny_models, corpus_file, queries_file):
    """The dense step searches with encode_queries' vectors, without importing torch; its
    ranking is the exact one of those vectors and its latency includes their encoding."""
    emb = _encode(corpus_file, tiny_models["bi"], tmp_path)
    qemb, qsec = _encode_queries(queries_file, tiny_models["bi"], tmp_path)
    steps.index(embeddings=str(emb), index_out=str(tmp_path / "flat.faiss"))
    kwargs = {"index": tmp_path / "flat.faiss", "query_embeddings": qemb, "query_seconds": qsec,
              "corpus": corpus_file, "queries": queries_file, "run_out": tmp_path / "run.tsv",
              "latency_out": tmp_path / "lat.tsv"}
    kwargs = {k: str(v) for k, v in kwargs.items()}
    code = ("import sys\n"
            "from shopbench import steps\n"
            f"steps.dense(**{kwargs!r}, approach='bi', k=10)\n"
            "print(','.join(m for m in ('torch', 'sentence_transformers', 'transformers') "
            "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
    run = trec.read_run(tmp_path / "run.tsv")
    emb, qemb = np.load(emb), np.load(qemb)
    docids = pd.read_parquet(corpus_file)["docid"].to_numpy()
    queries = trec.read_queries(queries_file)
    for i, qid in enumerate(queries["qid"]):
        order, _ = trec.top_k(emb @ qemb[i], docids, 10)
        assert run[run["qid"] == qid].sort_values("rank")["docid"].tolist() == \
            docids[order].tolist()
    encoded = pd.read_csv(qsec, sep="\t")["seconds"].to_numpy()
    latency = pd.read_csv(tmp_path / "lat.tsv", sep="\t")
    assert latency["qid"].tolist() == queries["qid"].tolist()  # 5 queries: all timed
    assert (latency["seconds"].to_numpy() >= encoded).all()
    # two timed queries: spread over the queries (first and last), the run still has all five
    steps.dense(**{**kwargs, "run_out": str(tmp_path / "run2.tsv"),
                   "latency_out": str(tmp_path / "lat2.tsv")}, approach="bi", k=10,
                latency_queries=2)
    assert pd.read_csv(tmp_path / "lat2.tsv", sep="\t")["qid"].tolist() == [3, 21]
    assert (tmp_path / "run2.tsv").read_bytes() == (tmp_path / "run.tsv").read_bytes()


def test_sharded_reranking_is_byte_identical(tmp_path, tiny_models, corpus_file, queries_file):
    docids = pd.read_parquet(corpus_file)["docid"].tolist()
    queries = trec.read_queries(queries_file)
    trec.write_tsv(queries, tmp_path / "queries.tsv")
    rng = np.random.default_rng(0)
    ranked = [list(rng.choice(docids, 12, replace=False)) for _ in range(len(queries))]
    run = trec.run_frame(queries["qid"].tolist(), ranked,
                         [np.linspace(1, 0, 12)] * len(queries), "first")
    trec.write_run(run, tmp_path / "first.tsv")

    def rerank(out, **kw):
        steps.rerank(run=str(tmp_path / "first.tsv"), corpus=str(corpus_file),
                     queries=str(tmp_path / "queries.tsv"), run_out=str(out) + ".run",
                     latency_out=str(out) + ".lat", approach="ce",
                     path=str(tiny_models["cross"]), model="cross", max_length=64,
                     batch_size=4, depth=10, device="cpu", **kw)

    rerank(tmp_path / "whole")
    for i in range(3):
        rerank(tmp_path / f"part{i}", shard=i, shards=3)
    steps.merge_rerank(runs=[str(tmp_path / f"part{i}.run") for i in range(3)],
                       latency=[str(tmp_path / f"part{i}.lat") for i in range(3)],
                       run_out=str(tmp_path / "merged.run"),
                       latency_out=str(tmp_path / "merged.lat"))
    whole = (tmp_path / "whole.run").read_bytes()
    assert len(whole.splitlines()) == 50
    assert (tmp_path / "merged.run").read_bytes() == whole
    latency = pd.read_csv(tmp_path / "merged.lat", sep="\t")
    assert latency["qid"].tolist() == [3, 5, 8, 13, 21]


# -- the workflow ---------------------------------------------------------------------------
def _config(path: Path, models: dict, shards: int, device: str = "cpu") -> Path:
    path.write_text(f"""
name: shards
data:
  examples: {DEMO / "shopping_queries_dataset_examples.parquet"}
  products: {DEMO / "shopping_queries_dataset_products.parquet"}
sampling: {{n_queries: 15, n_rows: 150}}
protocol: judged-pool
shards: {shards}
device: {device}
models:
  - {{name: bi, kind: bi-encoder, path: {models["bi"]}, batch_size: 8}}
  - {{name: cross, kind: cross-encoder, path: {models["cross"]}}}
approaches:
  - {{name: bi, type: dense, model: bi}}
  - {{name: bm25, type: bm25}}
  - {{name: ce, type: rerank, model: cross, run: bm25, depth: 10}}
evaluation: {{bootstrap: 100, permutations: 100}}
""", encoding="utf-8")
    return path


def _snakemake(workdir: Path, *args: str) -> str:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
         "--configfile", str(workdir / "config.yaml"), *args],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def _resources(output: str) -> dict[str, set[str]]:
    """rule -> the resources line of its jobs in a dry run."""
    found: dict[str, set[str]] = {}
    for block in output.split("rule ")[1:]:
        rule = block.split(":", 1)[0]
        line = re.search(r"resources: (.*)", block)
        found.setdefault(rule, set()).add(line[1] if line else "")
    return found


def test_one_shard_adds_no_jobs(tmp_path, tiny_models):
    one = tmp_path / "one"
    one.mkdir()
    _config(one / "config.yaml", tiny_models, 1)
    counts = _job_counts(_snakemake(one, "-n"))
    assert counts["encode_products"] == 1 and counts["rerank"] == 1
    assert not {"merge_embeddings", "merge_rerank"} & set(counts)
    three = tmp_path / "three"
    three.mkdir()
    _config(three / "config.yaml", tiny_models, 3)
    sharded = _job_counts(_snakemake(three, "-n"))
    assert sharded["encode_products"] == 3 and sharded["rerank"] == 3
    assert sharded["merge_embeddings"] == 1 and sharded["merge_rerank"] == 1
    assert {k: v for k, v in sharded.items() if not k.startswith("merge_")
            and k not in ("encode_products", "rerank")} == {
        k: v for k, v in counts.items() if k not in ("encode_products", "rerank")}


@pytest.mark.parametrize("device, gpu", [("cpu", "0"), ("cuda", "1")])
def test_gpu_requested_for_model_rules_only_under_cuda(tmp_path, tiny_models, device, gpu):
    _config(tmp_path / "config.yaml", tiny_models, 2, device)
    res = _resources(_snakemake(tmp_path, "-n", "--cores", "4"))
    for rule in ("encode_products", "encode_queries", "rerank"):  # model_threads: auto
        for line in res[rule]:  # all of --cores 4
            assert f"gpu={gpu}" in line and "cpus_per_task=4" in line, (rule, line)
    (line,) = res["dense"]  # searches with encode_queries' query vectors: no model
    assert "gpu=" not in line and "cpus_per_task=4" in line, line
    for rule in ("sample", "corpus", "index", "evaluate", "merge_embeddings"):
        assert all("gpu=" not in line for line in res[rule]), rule


def test_jobs_feeding_a_reranker_go_first(tmp_path, tiny_models):
    """Priority 10 on the chain into the reranker (bm25 -> ce), none elsewhere; model jobs
    take all of --cores each (model_threads: auto)."""
    _config(tmp_path / "config.yaml", tiny_models, 1)
    out = _snakemake(tmp_path, "-n", "--cores", "2")
    priority = {}
    for block in out.split("rule ")[1:]:
        rule = block.split(":", 1)[0]
        found = re.search(r"priority: (\d+)", block)
        priority.setdefault(rule, set()).add(int(found[1]) if found else 0)
    assert priority["rerank"] == {10} and priority["bm25"] == {10}
    assert priority["encode_products"] == {0} and priority["encode_queries"] == {0}
    assert priority["dense"] == {0} and priority["index"] == {0}
    assert "cpus_per_task=2" in _resources(out)["encode_products"].pop()


def test_slurm_profile_sizes_jobs(tmp_path, tiny_models):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    _config(tmp_path / "config.yaml", tiny_models, 2)
    res = _resources(_snakemake(tmp_path, "-n", "--profile", str(REPO / "profiles/slurm")))
    for encode in res["encode_products"]:  # the two shards
        assert "mem_mb=16000" in encode and "runtime=480" in encode and "gpu=0" in encode
    assert all("mem_mb=4000" in line and "runtime=60" in line for line in res["evaluate"])


@pytest.mark.slow
def test_sharded_workflow_matches_unsharded(tmp_path, tiny_models):
    targets = ["results/shards/seed42/embeddings/bi.npy",
               "results/shards/seed42/query_embeddings/bi.plain.npy",
               "results/shards/seed42/runs/bi.tsv", "results/shards/seed42/runs/ce.tsv",
               "results/shards/seed42/latency/ce.tsv"]
    runs = {}
    for shards in (1, 2):
        work = tmp_path / f"shards{shards}"
        work.mkdir()
        _config(work / "config.yaml", tiny_models, shards)
        # One thread per model job in both runs, so that the two shards run side by side.
        _snakemake(work, "--cores", "2", "--set-threads", "encode_products=1",
                   "encode_queries=1", "rerank=1", "--", *targets)
        runs[shards] = work
    for target in targets[:4]:
        assert (runs[1] / target).read_bytes() == (runs[2] / target).read_bytes(), target
    latency = [pd.read_csv(runs[n] / targets[4], sep="\t") for n in (1, 2)]
    assert latency[0]["qid"].tolist() == latency[1]["qid"].tolist()
    assert not list((runs[2] / "results/shards/seed42").rglob("*.shard*")), "parts left"
    assert (runs[2] / "results/shards/logs/seed42/encode_bi.shard1of2.log").exists()
