"""The catalogue protocol: split/version sampling, the shared catalogue corpus, embeddings and
indexes (built once per experiment), batched searches, and the workflow's rerun plan."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from shopbench import bm25, catalogue as C, data as D, dense, steps, text as T, trec
from shopbench.errors import ShopbenchError

from reference_metrics import evaluate_query
from workflow_runner import REPO, planned_jobs, snakemake, write_config


@pytest.fixture(scope="module")
def slice_files(esci_slice):
    return (esci_slice / "shopping_queries_dataset_examples.parquet",
            esci_slice / "shopping_queries_dataset_products.parquet")


def with_official_columns(examples: pd.DataFrame) -> pd.DataFrame:
    """The slice with per-query split and small_version values (the slice's are empty)."""
    ex = examples.copy()
    qids = np.sort(ex["query_id"].unique())
    test = set(qids[::3])
    small = set(qids[::2])
    ex["split"] = np.where(ex["query_id"].isin(test), "test", "train")
    ex["small_version"] = ex["query_id"].isin(small).astype("int64")
    ex["large_version"] = 1
    return ex


# -- sampling ---------------------------------------------------------------------------------
def test_split_and_version_select_by_the_official_columns(slice_files):
    ex = with_official_columns(D.read_examples(slice_files[0]))
    test = D.filter_split_version(ex, "test", "all")
    assert set(test["split"]) == {"test"} and len(test) == (ex["split"] == "test").sum()
    small_train = D.filter_split_version(ex, "train", "small")
    assert set(small_train["split"]) == {"train"}
    assert set(small_train["small_version"]) == {1}
    assert D.filter_split_version(ex, "all", "all") is ex  # no filter, nothing copied


@pytest.mark.parametrize("key, value", [("split", "test"), ("split", "train"),
                                        ("version", "small"), ("version", "large")])
def test_split_or_version_on_a_file_without_their_values_is_an_error(slice_files, key, value):
    ex = D.read_examples(slice_files[0])  # the slice: the columns exist, every value is null
    kwargs = {"split": "all", "version": "all", key: value}
    with pytest.raises(ShopbenchError, match=rf"sampling\.{key}: '{value}' .*no values.*"
                                             rf"sampling\.{key}: all"):
        D.filter_split_version(ex, path="x.parquet", **kwargs)
    dropped = ex.drop(columns=["split", "small_version", "large_version"])
    with pytest.raises(ShopbenchError, match=rf"sampling\.{key}: .*lacks the column"):
        D.filter_split_version(dropped, **kwargs)


def test_the_sample_step_reports_the_missing_split(slice_files, tmp_path):
    with pytest.raises(ShopbenchError, match="sampling.split"):
        steps.sample(str(slice_files[0]), str(tmp_path / "q.tsv"), str(tmp_path / "qs.tsv"),
                     str(tmp_path / "s.parquet"), seed=1, locale="us", labels=["E"],
                     n_queries=10, n_rows=50, on_too_few_queries="error",
                     protocol="catalogue", split="test")
    assert not list(tmp_path.iterdir())


def test_n_queries_all_is_the_notebook_draw_of_every_query(slice_files):
    filtered = D.filter_examples(D.read_examples(slice_files[0]), "us", ["E"])
    n = filtered["query_id"].nunique()
    pd.testing.assert_frame_equal(D.sample_examples(filtered, "all", 500, 7),
                                  D.sample_examples(filtered, n, 500, 7))
    np.random.seed(7)
    expected = np.random.choice(filtered["query_id"].unique(), size=n, replace=False)
    assert D.sample_queries(filtered, "all", 7).tolist() == expected.tolist()


def test_catalogue_sample_draws_from_the_split_and_keeps_every_judgment(slice_files, tmp_path):
    ex = with_official_columns(D.read_examples(slice_files[0]))
    path = tmp_path / "examples.parquet"
    ex.to_parquet(path, index=False)
    out = {k: str(tmp_path / f) for k, f in
           (("qrels", "qrels.tsv"), ("queries", "queries.tsv"), ("sample", "s.parquet"))}
    steps.sample(str(path), out["qrels"], out["queries"], out["sample"], seed=3, locale="us",
                 labels=["E"], n_queries=12, n_rows=1, on_too_few_queries="error",
                 protocol="catalogue", split="test")
    queries = trec.read_queries(out["queries"])
    test_qids = set(ex.loc[ex["split"] == "test", "query_id"])
    assert len(queries) == 12 and set(queries["qid"]) <= test_qids
    np.random.seed(3)  # the notebook's first stage over the test queries with an E
    filtered = ex[(ex["split"] == "test") & (ex["esci_label"] == "E")]
    assert set(queries["qid"]) == set(np.random.choice(filtered["query_id"].unique(), 12,
                                                       replace=False))
    qrels = trec.read_qrels(out["qrels"])
    judged = ex[ex["query_id"].isin(queries["qid"])]
    assert len(qrels) == len(judged[["query_id", "product_id"]].drop_duplicates())
    assert set(qrels["grade"]) == {0, 1, 2, 3}


# -- corpus, encoding, indexes ----------------------------------------------------------------
def test_catalogue_corpus_is_every_product_with_text(slice_files, tmp_path):
    out = tmp_path / "corpus.parquet"
    fields = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    n = C.build_corpus(str(slice_files[1]), str(out), fields=fields, locale="us",
                       rows_per_piece=1000)
    got = pd.read_parquet(out)
    products = D.read_products(slice_files[1], fields)
    expected = T.build_corpus(products[["product_id", "product_locale"]], products, fields)
    assert n == len(got) == len(expected)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    with pytest.raises(ShopbenchError, match="no 'es' product"):
        C.build_corpus(str(slice_files[1]), str(tmp_path / "es.parquet"), fields=fields,
                       locale="es")


def test_encoding_in_shards_equals_one_job_and_float16_storage(tmp_path):
    texts = [f"product {'x' * (i % 7)} number {i}" for i in range(41)]
    corpus = tmp_path / "corpus.parquet"
    pd.DataFrame({"docid": [str(i) for i in range(41)], "title": "", "text": texts}) \
        .to_parquet(corpus)

    def encode_batch(batch):  # deterministic, depends on the batch's content only
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in batch], np.float32)

    whole = tmp_path / "whole.npy"
    C.encode_products(encode_batch, str(corpus), batch_size=4, embeddings_out=str(whole))
    parts = [str(tmp_path / f"p{i}.npz") for i in range(3)]
    for i, part in enumerate(parts):
        C.encode_products(encode_batch, str(corpus), batch_size=4, shard=i, shards=3,
                          part_out=part)
    C.merge_products(parts, str(tmp_path / "merged.npy"))
    expected = encode_batch(texts)
    assert np.array_equal(np.load(whole), expected)
    assert (tmp_path / "merged.npy").read_bytes() == whole.read_bytes()
    half = tmp_path / "half.npy"
    C.encode_products(encode_batch, str(corpus), batch_size=4, dtype="float16",
                      embeddings_out=str(half))
    assert np.load(half).dtype == np.float16
    assert np.array_equal(np.load(half), expected.astype(np.float16))


def test_index_from_disk_in_chunks_equals_the_steps_index(tmp_path):
    import faiss

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(300, 8)).astype(np.float32)
    np.save(tmp_path / "e.npy", emb)
    chunks = list(C.iter_npy_rows(str(tmp_path / "e.npy"), chunk_rows=64))
    assert [len(c) for c in chunks] == [64, 64, 64, 64, 44]
    C.build_index(str(tmp_path / "e.npy"), str(tmp_path / "c.faiss"))
    steps.index(str(tmp_path / "e.npy"), str(tmp_path / "s.faiss"))
    assert (tmp_path / "c.faiss").read_bytes() == (tmp_path / "s.faiss").read_bytes()
    np.save(tmp_path / "h.npy", emb.astype(np.float16))
    C.build_index(str(tmp_path / "h.npy"), str(tmp_path / "h.faiss"))
    assert faiss.read_index(str(tmp_path / "h.faiss")).ntotal == 300


def test_batched_dense_search_ranks_like_one_query_at_a_time():
    import faiss

    rng = np.random.default_rng(1)
    emb = rng.normal(size=(500, 16)).astype(np.float32)
    emb[100:140] = emb[7]  # 41 equal vectors: ties across the top-k cut
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    docids = np.array([f"d{i:04d}" for i in rng.permutation(500)])
    queries = np.vstack([emb[7:8], rng.normal(size=(30, 16)).astype(np.float32)])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(16)
    index.add(emb)
    ranked, scores = C.dense_search_batched(index, docids, queries, 20, block=8)
    expected, expected_scores, _ = dense.search(index, docids, queries, 20)
    assert ranked == expected
    for got, want in zip(scores, expected_scores):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_bm25_index_equals_bm25s_and_batched_scores_equal_per_query(tmp_path, slice_files):
    corpus = tmp_path / "corpus.parquet"
    fields = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    C.build_corpus(str(slice_files[1]), str(corpus), fields=fields, locale="us")
    C.bm25_index(str(corpus), str(tmp_path / "bm25"), k1=1.2, b=0.7, rows_per_piece=700)
    saved = C.load_bm25(str(tmp_path / "bm25"))
    texts = pd.read_parquet(corpus)["text"]
    reference = bm25.BM25Scorer(texts, k1=1.2, b=0.7, backend="bm25s")
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(np.asarray(saved.scores[key]), reference._bm25.scores[key]), key
    assert saved.vocab_dict == {t: i for t, i in reference._vocab.items() if t != ""}
    queries = ["usb c cable", "cable cable usb", "zzzqqq", "", "red shoes for women"]
    ids = [[saved.vocab_dict[t] for t in bm25.tokenize(q) if t in saved.vocab_dict]
           for q in queries]
    batched = C.bm25_scores_batched(saved, ids)
    for q, row in zip(queries, batched):
        np.testing.assert_allclose(row, reference.scores(q), rtol=1e-6, atol=1e-6)


def _tiny_catalogue(tmp_path, texts):
    corpus = tmp_path / "corpus.parquet"
    pd.DataFrame({"docid": [f"P{i}" for i in range(len(texts))], "title": texts,
                  "text": texts}).to_parquet(corpus, index=False)
    queries = tmp_path / "queries.tsv"
    pd.DataFrame({"qid": [1, 2], "query": ["red cable", "zzzqqq"]}).to_csv(
        queries, sep="\t", index=False)
    return corpus, queries


@pytest.mark.parametrize("backend", ["bm25s", "rank_bm25"])
def test_catalogue_bm25_returns_only_matches_unless_padded(tmp_path, backend):
    # (words in half the products or more score 0 with bm25s' idf: six products, "cable" in two)
    texts = ["red cable", "blue cable", "green lamp", "desk lamp", "oak table", "pine chair"]
    corpus, queries = _tiny_catalogue(tmp_path, texts)
    index = None
    if backend == "bm25s":
        index = str(tmp_path / "bm25")
        C.bm25_index(str(corpus), index, k1=1.5, b=0.75, analyzer="notebook")
    runs = {}
    for pad in (False, True):
        out = tmp_path / f"run{pad}.tsv"
        C.bm25_catalogue_run(index, str(corpus), str(queries), str(out),
                             str(tmp_path / f"lat{pad}.tsv"), approach="bm25", k=10, k1=1.5,
                             b=0.75, backend=backend, latency_queries=2, pad_zero_scores=pad)
        runs[pad] = trec.read_run(str(out))
    # "red cable" matches P0 (both words) and P1 ("cable"), nothing else; "zzzqqq" matches none
    assert runs[False].groupby("qid")["docid"].apply(list).to_dict() == {1: ["P0", "P1"]}
    assert (runs[False]["score"] > 0).all()
    padded = runs[True].groupby("qid")["docid"].apply(list).to_dict()
    assert padded[1][:2] == ["P0", "P1"] and len(padded[1]) == 6 and len(padded[2]) == 6


def test_catalogue_bm25_uses_the_analyzer(tmp_path):
    # the notebook's tokenizer splits "cámara" into "c" and "mara"; the unicode analyzer keeps it
    texts = ["cámara digital", "mara c", "lámpara de mesa", "mesa de roble", "silla", "sofá",
             "\u30ab\u30e1\u30e9"]  # Japanese: no token with the notebook's tokenizer
    corpus, _ = _tiny_catalogue(tmp_path, texts)
    queries = tmp_path / "q.tsv"
    pd.DataFrame({"qid": [1], "query": ["cámara"]}).to_csv(queries, sep="\t", index=False)
    ranked = {}
    for analyzer in ("notebook", "unicode"):
        index = str(tmp_path / f"bm25-{analyzer}")
        C.bm25_index(str(corpus), index, k1=1.5, b=0.75, analyzer=analyzer)
        out = tmp_path / f"{analyzer}.tsv"
        C.bm25_catalogue_run(index, str(corpus), str(queries), str(out), str(tmp_path / "l.tsv"),
                             approach="bm25", k=10, k1=1.5, b=0.75, backend="bm25s",
                             latency_queries=1, analyzer=analyzer,
                             analysis_out=str(tmp_path / f"{analyzer}.json"))
        ranked[analyzer] = trec.read_run(str(out))["docid"].tolist()
    assert ranked["unicode"] == ["P0"]
    assert "P1" in ranked["notebook"]
    import json

    notebook = json.loads((tmp_path / "notebook.json").read_text())
    assert notebook["products"]["count"] == 1 and notebook["products"]["of"] == 7
    assert notebook["products"]["examples"][0]["id"] == "P6"
    assert json.loads((tmp_path / "unicode.json").read_text())["products"]["count"] == 0


def test_latency_rows_spread_over_the_queries():
    assert C.latency_rows(5, 10).tolist() == [0, 1, 2, 3, 4]
    rows = C.latency_rows(22_458, 1000)
    assert len(rows) == 1000 and rows[0] == 0 and rows[-1] == 22_457


# -- the workflow -----------------------------------------------------------------------------
def catalogue_config(esci_slice, models, seeds, n_queries=8, **overrides) -> dict:
    config = {
        "name": "cat",
        "data": {"examples": str(esci_slice / "shopping_queries_dataset_examples.parquet"),
                 "products": str(esci_slice / "shopping_queries_dataset_products.parquet")},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": n_queries},
        "protocol": "catalogue",
        "seeds": seeds,
        "latency_queries": 5,
        "models": [{"name": "tiny", "kind": "bi-encoder", "path": str(models["bi"]),
                    "query_prefix": "query: ", "document_prefix": "passage: ",
                    "max_length": 32, "batch_size": 64}],
        "approaches": [{"name": "dense", "type": "dense", "model": "tiny"},
                       {"name": "bm25", "type": "bm25", "backend": "bm25s"},
                       {"name": "hybrid", "type": "fusion", "runs": ["dense", "bm25"]}],
        "evaluation": {"bootstrap": 200, "permutations": 1000},
    }
    config.update(overrides)
    return config


SHARED = {"catalogue_corpus", "encode_products", "catalogue_index", "bm25_index"}


@pytest.fixture(scope="module")
def catalogue_run(tmp_path_factory, tiny_models, esci_slice):
    """The catalogue experiment on the slice with a tiny model, two seeds, run to the end."""
    work = tmp_path_factory.mktemp("catalogue")
    cfg = write_config(work, catalogue_config(esci_slice, tiny_models, [1, 2]))
    first_plan = planned_jobs(work, cfg)
    snakemake(work, cfg, "--cores", "2")
    return work, first_plan


def test_seeds_share_one_catalogue_and_one_embeddings_file_per_model(catalogue_run):
    work, plan = catalogue_run
    rules = [rule for rule, _ in plan]
    for rule in SHARED:
        assert rules.count(rule) == 1, rule  # once per experiment, not per seed
    assert rules.count("encode_catalogue_queries") == 2 and rules.count("encode") == 0
    out = work / "results" / "cat"
    assert sorted(p.name for p in (out / "catalogue" / "embeddings").iterdir()) == ["tiny.npy"]
    assert (out / "catalogue" / "index" / "tiny.faiss").exists()
    assert (out / "catalogue" / "bm25" / "bm25").is_dir()
    corpus = pd.read_parquet(out / "catalogue" / "corpus.parquet")
    assert np.load(out / "catalogue" / "embeddings" / "tiny.npy").shape[0] == len(corpus)
    for seed in (1, 2):
        seed_dir = out / f"seed{seed}"
        assert not (seed_dir / "corpus.parquet").exists()
        assert sorted(p.name for p in (seed_dir / "embeddings").iterdir()) == \
            ["tiny.queries.npy"]
        assert len(np.load(seed_dir / "embeddings" / "tiny.queries.npy")) == 8


def test_adding_a_seed_or_queries_encodes_no_product(catalogue_run, tiny_models, esci_slice):
    work, _ = catalogue_run
    more_seeds = write_config(work, catalogue_config(esci_slice, tiny_models, [1, 2, 3]),
                              "seeds.yaml")
    plan = planned_jobs(work, more_seeds)
    assert not {rule for rule, _ in plan} & SHARED
    assert ("encode_catalogue_queries", "seed=3, model=tiny") in plan
    assert not any(rule == "encode_catalogue_queries" and "seed=3" not in wc for rule, wc in plan)
    more_queries = write_config(work, catalogue_config(esci_slice, tiny_models, [1, 2],
                                                       n_queries=12), "queries.yaml")
    plan = planned_jobs(work, more_queries)
    assert not {rule for rule, _ in plan} & SHARED
    assert {wc for rule, wc in plan if rule == "encode_catalogue_queries"} == \
        {"seed=1, model=tiny", "seed=2, model=tiny"}


def test_metrics_equal_a_recomputation_from_the_runs_and_the_labels(catalogue_run,
                                                                      esci_slice):
    work, _ = catalogue_run
    out = work / "results" / "cat"
    examples = D.read_examples(esci_slice / "shopping_queries_dataset_examples.parquet")
    per_query = pd.read_csv(out / "per_query.csv")  # 6 decimals
    gains = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}
    checked = 0
    for (approach, seed), rows in per_query.groupby(["approach", "seed"]):
        run = trec.read_run(out / f"seed{seed}" / "runs" / f"{approach}.tsv")
        queries = trec.read_queries(out / f"seed{seed}" / "queries.tsv")
        assert sorted(rows["qid"]) == sorted(queries["qid"])
        for row in rows.itertuples():
            labels = examples[(examples["query_id"] == row.qid)
                              & (examples["product_locale"] == "us")]
            judgments = dict(zip(labels["product_id"], labels["esci_label"].map(D.GRADES)))
            ranked = run.loc[run["qid"] == row.qid, "docid"].tolist()
            # dense: its top 100; bm25: only matching products (at most 100); fusion: the
            # union of the two
            assert 0 < len(ranked) <= {"dense": 100, "bm25": 100}.get(approach, 200)
            if approach == "dense":
                assert len(ranked) == 100
            expected = evaluate_query(ranked, judgments, gains, ["E"])
            for metric, value in expected.items():
                assert rows.loc[rows["qid"] == row.qid, metric].iloc[0] == \
                    pytest.approx(value, abs=5e-7), (approach, seed, row.qid, metric)
            checked += 1
    assert checked == 3 * 2 * 8
    latency = pd.read_csv(out / "latency.csv")
    assert latency["measured"].str.contains("one query at a time").all()
    assert (latency["n"] == 2 * 5).all()  # 5 timed queries per seed, 2 seeds


def _resources(output: str) -> dict[str, set[str]]:
    """rule -> the resources lines of its jobs in a dry run."""
    found: dict[str, set[str]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \S+:)", output):
        head = re.match(r"(?:local)?rule (\S+):", block)
        if head:
            line = re.search(r"resources: (.*)", block)
            found.setdefault(head.group(1), set()).add(line[1] if line else "")
    return found


@pytest.mark.parametrize("device, gpu", [("cpu", "0"), ("cuda", "1")])
def test_catalogue_model_jobs_ask_for_a_gpu_under_cuda_and_shard(tmp_path, tiny_models,
                                                                 esci_slice, device, gpu):
    cfg = write_config(tmp_path, catalogue_config(esci_slice, tiny_models, [1, 2],
                                                  device=device, shards=2))
    out = snakemake(tmp_path, cfg, "-n", "--cores", "4")
    res = _resources(out.stdout + out.stderr)
    assert len(res["encode_products"]) == 1 and "encode" not in res
    for rule in ("encode_products", "encode_catalogue_queries"):
        # model_threads: auto gives each model job all of --cores 4
        assert all(f"gpu={gpu}" in line and "cpus_per_task=4" in line for line in res[rule])
    for rule in ("dense_catalogue", "bm25_catalogue", "catalogue_index", "bm25_index",
                 "merge_products", "catalogue_corpus"):
        assert all("gpu=" not in line for line in res[rule]), rule
    text = out.stdout + out.stderr
    assert text.count("rule encode_products:") == 2  # the catalogue's two shards, once
    assert text.count("rule merge_products:") == 1


def test_slurm_profile_sizes_the_catalogue_jobs(tmp_path, tiny_models, esci_slice):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    cfg = write_config(tmp_path, catalogue_config(esci_slice, tiny_models, [1]))
    out = snakemake(tmp_path, cfg, "-n", "--profile", str(REPO / "profiles/slurm"))
    res = _resources(out.stdout + out.stderr)
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    for rule in ("catalogue_corpus", "encode_products", "encode_catalogue_queries", "catalogue_index",
                 "bm25_index", "dense_catalogue", "bm25_catalogue"):
        mem = profile["set-resources"][rule]["mem_mb"]
        assert all(f"mem_mb={mem}" in line for line in res[rule]), rule
        assert mem <= 8000, rule

