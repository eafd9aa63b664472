"""The catalogue protocol: split/version sampling, the shared catalogue corpus, embeddings and
indexes (built once per experiment), batched searches, and the workflow's rerun plan."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from shopbench import backends, bm25, data as D, steps, text as T, trec
from shopbench.backends import faiss_flat
from shopbench.steps.search import latency_rows
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
    n = T.catalogue_corpus(str(slice_files[1]), str(out), fields=fields, locale="us",
                           rows_per_piece=1000)
    got = pd.read_parquet(out)
    products = D.read_products(slice_files[1], fields)
    expected = T.build_corpus(products[["product_id", "product_locale"]], products, fields)
    assert n == len(got) == len(expected)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    with pytest.raises(ShopbenchError, match="no 'es' product"):
        T.catalogue_corpus(str(slice_files[1]), str(tmp_path / "es.parquet"), fields=fields,
                           locale="es")


def test_float16_storage_holds_the_float32_embeddings_rounded(tmp_path, tiny_models):
    texts = [f"product {'x' * (i % 7)} number {i}" for i in range(41)]
    corpus = tmp_path / "corpus.parquet"
    pd.DataFrame({"docid": [str(i) for i in range(41)], "title": "", "text": texts}) \
        .to_parquet(corpus)
    opts = dict(path=str(tiny_models["bi"]), model="tiny", document_prefix="", batch_size=4,
                max_length=32, device="cpu")
    steps.encode_products(str(corpus), embeddings_out=str(tmp_path / "f32.npy"), **opts)
    steps.encode_products(str(corpus), embeddings_out=str(tmp_path / "f16.npy"),
                          dtype="float16", **opts)
    full, half = np.load(tmp_path / "f32.npy"), np.load(tmp_path / "f16.npy")
    assert full.dtype == np.float32 and half.dtype == np.float16 and full.shape == (41, 32)
    assert np.array_equal(half, full.astype(np.float16))


def test_index_from_disk_in_chunks_equals_one_add(tmp_path):
    import faiss

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(300, 8)).astype(np.float32)
    np.save(tmp_path / "e.npy", emb)
    chunks = list(faiss_flat.iter_npy_rows(str(tmp_path / "e.npy"), chunk_rows=64))
    assert [len(c) for c in chunks] == [64, 64, 64, 64, 44]
    steps.index(str(tmp_path / "e.npy"), str(tmp_path / "c.faiss"))
    whole = faiss.IndexFlatIP(8)
    whole.add(emb)
    faiss.write_index(whole, str(tmp_path / "w.faiss"))
    assert (tmp_path / "c.faiss").read_bytes() == (tmp_path / "w.faiss").read_bytes()
    np.save(tmp_path / "h.npy", emb.astype(np.float16))
    steps.index(str(tmp_path / "h.npy"), str(tmp_path / "h.faiss"))
    assert faiss.read_index(str(tmp_path / "h.faiss")).ntotal == 300


def test_batched_dense_search_ranks_like_one_query_at_a_time(tmp_path):
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(500, 16)).astype(np.float32)
    emb[100:140] = emb[7]  # 41 equal vectors: ties across the top-k cut
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    docids = np.array([f"d{i:04d}" for i in rng.permutation(500)])
    queries = np.vstack([emb[7:8], rng.normal(size=(30, 16)).astype(np.float32)])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    np.save(tmp_path / "e.npy", emb)
    steps.index(str(tmp_path / "e.npy"), str(tmp_path / "f.faiss"))
    index = backends.get("flat").load(str(tmp_path / "f.faiss"), docids)
    batched = index.batch_search(queries, 20, block=8)
    for q, (pos, scores) in zip(queries, batched):
        want_pos, want_scores = index.search(q, 20)
        assert docids[pos].tolist() == docids[want_pos].tolist()
        np.testing.assert_array_equal(scores, want_scores)
    # the 41 tied products: the first query's top 20 are its ties in docid order
    tied = sorted(docids[[7, *range(100, 140)]])
    assert docids[batched[0][0]].tolist() == tied[:20]


def test_bm25s_index_equals_bm25s_own_and_its_scores(tmp_path, slice_files):
    import bm25s

    corpus = tmp_path / "corpus.parquet"
    fields = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    T.catalogue_corpus(str(slice_files[1]), str(corpus), fields=fields, locale="us")
    steps.bm25_index(str(corpus), str(tmp_path / "bm25"), backend="bm25s",
                     analyzer="notebook", k1=1.2, b=0.7)
    docids = pd.read_parquet(corpus)["docid"].to_numpy()
    saved = backends.get("bm25s").load(str(tmp_path / "bm25"), docids)
    (scorer, _), = saved.fields.values()
    texts = pd.read_parquet(corpus)["text"]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in bm25.tokenize(x)] for x in texts]
    reference = bm25s.BM25(k1=1.2, b=0.7, method="atire", idf_method="robertson")
    reference.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(np.asarray(scorer.retriever.scores[key]),
                              reference.scores[key]), key
    assert scorer.vocab == {t: i for t, i in vocab.items() if t != ""}
    for q in ["usb c cable", "cable cable usb", "zzzqqq", "", "red shoes for women"]:
        known = [vocab[t] for t in bm25.tokenize(q) if t in vocab]
        want = (reference.get_scores_from_ids(known) if known else np.zeros(len(texts)))
        np.testing.assert_allclose(saved.scores(bm25.tokenize(q)), want, rtol=1e-6, atol=1e-6)


def _tiny_catalogue(tmp_path, texts):
    corpus = tmp_path / "corpus.parquet"
    pd.DataFrame({"docid": [f"P{i}" for i in range(len(texts))], "title": texts,
                  "text": texts}).to_parquet(corpus, index=False)
    queries = tmp_path / "queries.tsv"
    pd.DataFrame({"qid": [1, 2], "query": ["red cable", "zzzqqq"]}).to_csv(
        queries, sep="\t", index=False)
    return corpus, queries


def _bm25(tmp_path, corpus, queries, tag, backend="bm25s", analyzer="notebook", **opts):
    index = str(tmp_path / f"bm25-{tag}")
    if not (tmp_path / f"bm25-{tag}").exists():
        steps.bm25_index(str(corpus), index, backend=backend, analyzer=analyzer, k1=1.5,
                         b=0.75)
    out = tmp_path / f"{tag}.tsv"
    steps.bm25(index, str(corpus), str(queries), str(out), str(tmp_path / f"{tag}.lat"),
               str(tmp_path / f"{tag}.json"), approach="bm25", k=10, backend=backend,
               analyzer=analyzer, latency_queries=2, **opts)
    return trec.read_run(str(out))


@pytest.mark.parametrize("backend", ["bm25s", "rank_bm25"])
def test_bm25_returns_only_matches_unless_padded(tmp_path, backend):
    # (words in half the products or more score 0 with bm25s' idf: six products, "cable" in two)
    texts = ["red cable", "blue cable", "green lamp", "desk lamp", "oak table", "pine chair"]
    corpus, queries = _tiny_catalogue(tmp_path, texts)
    runs = {pad: _bm25(tmp_path, corpus, queries, backend, backend, pad_zero_scores=pad)
            for pad in (False, True)}
    # "red cable" matches P0 (both words) and P1 ("cable"), nothing else; "zzzqqq" matches none
    assert runs[False].groupby("qid")["docid"].apply(list).to_dict() == {1: ["P0", "P1"]}
    assert (runs[False]["score"] > 0).all()
    padded = runs[True].groupby("qid")["docid"].apply(list).to_dict()
    assert padded[1][:2] == ["P0", "P1"] and len(padded[1]) == 6 and len(padded[2]) == 6


def test_bm25_uses_the_analyzer(tmp_path):
    # the notebook's tokenizer splits "cámara" into "c" and "mara"; the unicode analyzer keeps it
    texts = ["cámara digital", "mara c", "lámpara de mesa", "mesa de roble", "silla", "sofá",
             "\u30ab\u30e1\u30e9"]  # Japanese: no token with the notebook's tokenizer
    corpus, _ = _tiny_catalogue(tmp_path, texts)
    queries = tmp_path / "q.tsv"
    pd.DataFrame({"qid": [1], "query": ["cámara"]}).to_csv(queries, sep="\t", index=False)
    ranked = {a: _bm25(tmp_path, corpus, queries, a, analyzer=a)["docid"].tolist()
              for a in ("notebook", "unicode")}
    assert ranked["unicode"] == ["P0"]
    assert "P1" in ranked["notebook"]
    import json

    notebook = json.loads((tmp_path / "notebook.json").read_text())
    assert notebook["products"]["count"] == 1 and notebook["products"]["of"] == 7
    assert notebook["products"]["examples"][0]["id"] == "P6"
    assert json.loads((tmp_path / "unicode.json").read_text())["products"]["count"] == 0


def test_latency_rows_spread_over_the_queries():
    assert latency_rows(5, 10).tolist() == [0, 1, 2, 3, 4]
    rows = latency_rows(22_458, 1000)
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
        "query_normalizations": [{"name": "clean", "steps": ["unicode", "plurals"]}],
        "approaches": [{"name": "dense", "type": "dense", "model": "tiny"},
                       {"name": "bm25", "type": "bm25", "backend": "bm25s"},
                       {"name": "hybrid", "type": "fusion", "runs": ["dense", "bm25"]},
                       {"name": "bm25-fields", "type": "bm25", "backend": "bm25s",
                        "fields": {"product_title": 3, "product_description": 1}},
                       {"name": "bm25-clean", "type": "bm25", "backend": "bm25s",
                        "query_normalization": "clean"},
                       {"name": "dense-clean", "type": "dense", "model": "tiny",
                        "query_normalization": "clean"}],
        "evaluation": {"bootstrap": 200, "permutations": 1000},
    }
    config.update(overrides)
    return config


SHARED = {"corpus", "encode_products", "index", "bm25_index"}


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
    for rule in SHARED:  # once per experiment, not per seed (two BM25 indexes: text, fields)
        assert rules.count(rule) == (2 if rule == "bm25_index" else 1), rule
    assert rules.count("fields") == 1
    assert rules.count("encode_queries") == 2 * 2  # per seed: plain and normalized queries
    out = work / "results" / "cat"
    assert sorted(p.name for p in (out / "catalogue" / "embeddings").iterdir()) == ["tiny.npy"]
    assert (out / "catalogue" / "index" / "tiny.faiss").exists()
    assert (out / "catalogue" / "bm25" / "bm25").is_dir()
    corpus = pd.read_parquet(out / "catalogue" / "corpus.parquet")
    assert np.load(out / "catalogue" / "embeddings" / "tiny.npy").shape[0] == len(corpus)
    for seed in (1, 2):
        seed_dir = out / f"seed{seed}"
        assert not (seed_dir / "corpus.parquet").exists()
        assert not (seed_dir / "embeddings").exists()
        assert sorted(p.name for p in (seed_dir / "query_embeddings").iterdir()) == \
            ["tiny.plain.npy", "tiny.q-clean.npy"]
        assert len(np.load(seed_dir / "query_embeddings" / "tiny.plain.npy")) == 8


def test_adding_a_seed_or_queries_encodes_no_product(catalogue_run, tiny_models, esci_slice):
    work, _ = catalogue_run
    more_seeds = write_config(work, catalogue_config(esci_slice, tiny_models, [1, 2, 3]),
                              "seeds.yaml")
    plan = planned_jobs(work, more_seeds)
    assert not {rule for rule, _ in plan} & SHARED
    assert ("encode_queries", "seed=3, model=tiny, qset=plain") in plan
    assert not any(rule == "encode_queries" and "seed=3" not in wc for rule, wc in plan)
    more_queries = write_config(work, catalogue_config(esci_slice, tiny_models, [1, 2],
                                                       n_queries=12), "queries.yaml")
    plan = planned_jobs(work, more_queries)
    assert not {rule for rule, _ in plan} & SHARED
    assert {wc for rule, wc in plan if rule == "encode_queries"} == {
        f"seed={s}, model=tiny, qset={q}" for s in (1, 2) for q in ("plain", "q-clean")}


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
            assert 0 < len(ranked) <= (200 if approach == "hybrid" else 100)
            if approach.startswith("dense"):
                assert len(ranked) == 100
            expected = evaluate_query(ranked, judgments, gains, ["E"])
            for metric, value in expected.items():
                assert rows.loc[rows["qid"] == row.qid, metric].iloc[0] == \
                    pytest.approx(value, abs=5e-7), (approach, seed, row.qid, metric)
            checked += 1
    assert checked == 6 * 2 * 8
    latency = pd.read_csv(out / "latency.csv")
    assert latency["measured"].str.contains("one query at a time").all()
    assert (latency["n"] == 2 * 5).all()  # 5 timed queries per seed, 2 seeds


def test_query_normalization_and_field_weighting_change_the_runs_where_they_should(
        catalogue_run):
    work, _ = catalogue_run
    out = work / "results" / "cat"
    changed_any, differs = False, set()
    for seed in (1, 2):
        norm = pd.read_csv(out / f"seed{seed}" / "queries" / "clean.tsv", sep="\t",
                           keep_default_na=False)
        changed = set(norm.loc[norm["query"] != norm["original"], "qid"])
        changed_any |= bool(changed)
        for plain, normalized in (("bm25", "bm25-clean"), ("dense", "dense-clean")):
            a = trec.read_run(out / f"seed{seed}" / "runs" / f"{plain}.tsv")
            b = trec.read_run(out / f"seed{seed}" / "runs" / f"{normalized}.tsv")
            for qid in norm["qid"]:
                same = (a.loc[a["qid"] == qid, ["docid", "score"]].to_numpy().tolist()
                        == b.loc[b["qid"] == qid, ["docid", "score"]].to_numpy().tolist())
                assert same or qid in changed, (seed, normalized, qid)  # unchanged: same run
                if not same:
                    differs.add(normalized)
        plain = trec.read_run(out / f"seed{seed}" / "runs" / "bm25.tsv")
        fielded = trec.read_run(out / f"seed{seed}" / "runs" / "bm25-fields.tsv")
        assert not plain.equals(fielded)
        assert set(fielded["docid"]) - set(plain["docid"])  # titles x3 find other products
    assert changed_any  # the plurals step changes some of the 16 queries
    assert differs == {"bm25-clean", "dense-clean"}
    # one BM25 index per settings: the corpus text and the two fields, shared by 2 seeds
    assert sorted(p.name for p in (out / "catalogue" / "bm25").iterdir()) == \
        ["bm25", "bm25-fields"]


def test_catalogue_and_judged_pool_schedule_the_same_rules(tmp_path, tiny_models, esci_slice):
    plans = {}
    for protocol in ("catalogue", "judged-pool"):
        cfg = write_config(tmp_path, catalogue_config(esci_slice, tiny_models, [1, 2],
                                                      protocol=protocol), f"{protocol}.yaml")
        plans[protocol] = sorted(planned_jobs(tmp_path, cfg))
    rules = {p: [rule for rule, _ in plan] for p, plan in plans.items()}
    assert set(rules["catalogue"]) == set(rules["judged-pool"])
    per_corpus = {"corpus", "fields", "encode_products", "index", "bm25_index"}
    for rule in set(rules["catalogue"]):
        once, per_seed = rules["catalogue"].count(rule), rules["judged-pool"].count(rule)
        assert per_seed == (2 * once if rule in per_corpus else once), rule
    # the jobs differ only in where the corpus-level outputs live (one corpus, or one per seed)
    assert ("corpus", "corpus=catalogue") in plans["catalogue"]
    assert {wc for rule, wc in plans["judged-pool"] if rule == "corpus"} == \
        {"corpus=seed1", "corpus=seed2"}


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
    assert len(res["encode_products"]) == 1
    for rule in ("encode_products", "encode_queries"):
        # model_threads: auto gives each model job all of --cores 4
        assert all(f"gpu={gpu}" in line and "cpus_per_task=4" in line for line in res[rule])
    for rule in ("dense", "bm25", "index", "bm25_index", "merge_embeddings", "corpus"):
        assert all("gpu=" not in line for line in res[rule]), rule
    text = out.stdout + out.stderr
    assert text.count("rule encode_products:") == 2  # the catalogue's two shards, once
    assert text.count("rule merge_embeddings:") == 1


def test_slurm_profile_sizes_the_catalogue_jobs(tmp_path, tiny_models, esci_slice):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    cfg = write_config(tmp_path, catalogue_config(esci_slice, tiny_models, [1]))
    out = snakemake(tmp_path, cfg, "-n", "--profile", str(REPO / "profiles/slurm"))
    res = _resources(out.stdout + out.stderr)
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    for rule in ("corpus", "encode_products", "encode_queries", "index", "bm25_index", "dense",
                 "bm25"):
        mem = profile["set-resources"][rule]["mem_mb"]
        assert all(f"mem_mb={mem}" in line for line in res[rule]), rule

