"""Late interaction: both checkpoint formats load with their own settings, MaxSim equals a
hand computation, token files (sharded or not) give the same runs, the IVF candidate stage
equals exact search when it visits everything."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbench import late
from shopbench.errors import ShopbenchError


def test_maxsim_equals_a_hand_computation():
    # Query tokens q1 = (1, 0), q2 = (0, 1). Product A: (1, 0), (0.6, 0.8); product B: (0, 1);
    # product C: (-1, 0), (0.8, 0.6), (0, -1).
    # A: q1 -> max(1, 0.6) = 1; q2 -> max(0, 0.8) = 0.8: 1.8
    # B: q1 -> 0; q2 -> 1: 1.0
    # C: q1 -> max(-1, 0.8, 0) = 0.8; q2 -> max(0, 0.6, -1) = 0.6: 1.4
    query = np.array([[1, 0], [0, 1]], dtype=np.float32)
    tokens = np.array([[1, 0], [0.6, 0.8], [0, 1], [-1, 0], [0.8, 0.6], [0, -1]],
                      dtype=np.float16)
    offsets = late.offsets_of(np.array([2, 1, 3]))
    np.testing.assert_allclose(late.maxsim(query, tokens, offsets), [1.8, 1.0, 1.4], atol=1e-3)
    np.testing.assert_allclose(late.maxsim(query, tokens, offsets, np.array([2, 0])),
                               [1.4, 1.8], atol=1e-3)
    # chunked over the corpus: the same scores whatever the chunk
    np.testing.assert_allclose(late.maxsim(query, tokens, offsets, chunk_tokens=1),
                               [1.8, 1.0, 1.4], atol=1e-3)


def test_maxsim_equals_an_independent_loop_on_random_vectors():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, size=40)
    tokens = rng.normal(size=(lengths.sum(), 8)).astype(np.float16)
    query = rng.normal(size=(5, 8)).astype(np.float32)
    offsets = late.offsets_of(lengths)
    expected = [sum(max(float(np.dot(q.astype(np.float64), t.astype(np.float64)))
                        for t in tokens[offsets[p]:offsets[p + 1]]) for q in query)
                for p in range(len(lengths))]
    np.testing.assert_allclose(late.maxsim(query, tokens, offsets, chunk_tokens=17), expected,
                               rtol=1e-5, atol=1e-4)
    pick = np.array([39, 0, 7, 7])
    np.testing.assert_allclose(late.maxsim(query, tokens, offsets, pick),
                               [expected[p] for p in pick], rtol=1e-5, atol=1e-4)


def test_pylate_folder_loads_with_its_prefixes_lengths_and_skiplist(tiny_late_models):
    folder = tiny_late_models["pylate"]
    assert late.checkpoint_format(folder) == "pylate"
    model = late.load_late_interaction(str(folder), "pl")
    assert model.prompts == {"query": "[Q] ", "document": "[D] "}
    assert model[0].document_length == 180
    assert model.tokenizer.tokenize("[Q] red") == ["[Q] ", "r", "##e", "##d"]
    (query,), _ = late.encode_queries(model, ["red"])
    assert query.shape == (32, 16)  # padded with [MASK] to the query length
    plain, punct = late.encode_documents(model, ["red hat", "red hat, ,.!"], 2)
    assert len(plain) == len(punct)  # punctuation is skipped in documents
    np.testing.assert_allclose(np.linalg.norm(plain, axis=1), 1, atol=1e-5)


def test_stanford_folder_loads_with_its_markers_and_lengths(tiny_late_models):
    folder = tiny_late_models["stanford"]
    assert late.checkpoint_format(folder) == "stanford"
    model = late.load_late_interaction(str(folder), "st")
    assert model.prompts == {"query": "[unused0] ", "document": "[unused1] "}
    assert model[0].document_length == 180
    assert model.tokenizer.tokenize("[unused0] red")[0] == "[unused0]"
    (query,), _ = late.encode_queries(model, ["red"])
    assert query.shape == (32, 16)
    assert late.load_late_interaction(str(folder), "st", max_length=7)[0].document_length == 7


def test_scores_equal_the_library_maxsim_and_a_hand_loop(tiny_late_models):
    model = late.load_late_interaction(str(tiny_late_models["stanford"]), "st")
    docs = ["red running shoes", "blue hat", "a red hat for running"]
    vecs = late.encode_documents(model, docs, 2)
    (query,), _ = late.encode_queries(model, ["red hat"])
    tokens = np.concatenate(vecs).astype(np.float16)
    offsets = late.offsets_of(np.array([len(v) for v in vecs]))
    ours = late.maxsim(query, tokens, offsets)
    hand = [sum(max(float(q @ t) for t in v.astype(np.float16).astype(np.float64))
                for q in query.astype(np.float64)) for v in vecs]
    library = model.similarity([query], vecs).numpy()[0]
    np.testing.assert_allclose(ours, hand, rtol=1e-5)
    np.testing.assert_allclose(ours, library, rtol=2e-3)  # fp16 storage against fp32


def test_a_folder_that_is_neither_format_is_a_clear_error(tiny_models):
    folder = str(tiny_models["bi"])
    assert late.checkpoint_format(folder) is None
    with pytest.raises(ShopbenchError, match="neither a PyLate .* nor a Stanford ColBERT "
                                             "checkpoint.*stand_in: true"):
        late.load_late_interaction(folder, "plain")
    from shopbench.models import check_models

    with pytest.raises(ShopbenchError, match=r"config models\[0\]\.kind: .*neither a PyLate"):
        check_models([{"name": "plain", "kind": "late-interaction", "path": folder}])


def test_a_bi_encoder_loads_as_a_declared_stand_in(tiny_models):
    model = late.load_late_interaction(str(tiny_models["bi"]), "standin", max_length=64,
                                       stand_in=True)
    assert model[0].document_length == 64
    (doc,) = late.encode_documents(model, ["red hat"], 1)
    assert doc.shape[1] == 32  # the bi-encoder's hidden size: no projection
    np.testing.assert_allclose(np.linalg.norm(doc, axis=1), 1, atol=1e-5)


def _corpus(folder, n=23):
    texts = [f"product {i} " + "red hat " * (i % 5) + "shoe" * (i % 3) for i in range(n)]
    path = folder / "corpus.parquet"
    pd.DataFrame({"docid": [f"B{i:03d}" for i in range(n)], "text": texts}).to_parquet(path)
    queries = folder / "queries.tsv"
    queries.write_text("qid\tquery\n1\tred hat\n2\tshoe\n3\tproduct 7\n", encoding="utf-8")
    return path, queries


def test_sharded_token_files_equal_unsharded_and_give_the_same_runs(tiny_late_models,
                                                                     tmp_path):
    from shopbench.steps import late as steps

    corpus, queries = _corpus(tmp_path)
    common = dict(path=str(tiny_late_models["pylate"]), model="pl", batch_size=4,
                  max_length=None, device="cpu")
    steps.encode_tokens(str(corpus), **common, tokens_out=tmp_path / "t.npy",
                        lengths_out=tmp_path / "t.lengths.npy")
    parts = [tmp_path / f"part{i}.npz" for i in range(3)]
    for i, part in enumerate(parts):
        steps.encode_tokens(str(corpus), **common, shard=i, shards=3, part_out=part)
    steps.merge_tokens([str(p) for p in parts], tmp_path / "m.npy", tmp_path / "m.lengths.npy")
    for name in ("npy", "lengths.npy"):
        assert (tmp_path / f"t.{name}").read_bytes() == (tmp_path / f"m.{name}").read_bytes()
    tokens = np.load(tmp_path / "t.npy")
    assert tokens.dtype == np.float16 and tokens.shape[1] == 16
    assert len(np.load(tmp_path / "t.lengths.npy")) == 23

    steps.encode_query_tokens(str(queries), tmp_path / "q.npz", tmp_path / "q.tsv",
                              path=str(tiny_late_models["pylate"]), model="pl",
                              max_length=None, device="cpu")
    runs = {}
    for which in ("t", "m"):
        files = dict(corpus=str(corpus), queries=str(queries), tokens=tmp_path / f"{which}.npy",
                     lengths=tmp_path / f"{which}.lengths.npy",
                     query_tokens=tmp_path / "q.npz", query_seconds=tmp_path / "q.tsv")
        steps.late_search(**files, run_out=tmp_path / f"{which}.run", approach="li", k=10,
                          latency_out=tmp_path / f"{which}.lat")
        runs[which] = (tmp_path / f"{which}.run").read_text()
        steps.late_rerank(run=tmp_path / f"{which}.run", **files, approach="lr", depth=5,
                          run_out=tmp_path / f"{which}.rr", latency_out=tmp_path / "rr.lat")
        runs[which + "rr"] = (tmp_path / f"{which}.rr").read_text()
    assert runs["t"] == runs["m"] and runs["trr"] == runs["mrr"]
    run = pd.read_csv(tmp_path / "t.run", sep=" ", header=None)
    assert run.groupby(0).size().tolist() == [10, 10, 10]
    # the reranked run keeps each query's top 5, in MaxSim order
    rr = pd.read_csv(tmp_path / "t.rr", sep=" ", header=None)
    for qid, group in rr.groupby(0):
        assert set(group[2]) == set(run[run[0] == qid].head(5)[2])
        assert group[4].is_monotonic_decreasing
    latency = pd.read_csv(tmp_path / "rr.lat", sep="\t")
    assert latency["qid"].tolist() == [1, 2, 3] and (latency["seconds"] > 0).all()


def test_ivf_candidates_visiting_every_list_equal_exact_search(tmp_path):
    from shopbench.backends import maxsim

    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 12, size=300)
    vecs = rng.normal(size=(lengths.sum(), 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    late.write_tokens([vecs[a:b] for a, b in zip(late.offsets_of(lengths)[:-1],
                                                   late.offsets_of(lengths)[1:])],
                      tmp_path / "t.npy", tmp_path / "l.npy")
    maxsim.build(str(tmp_path / "t.npy"), str(tmp_path / "ivf.faiss"), nlist=8)
    docids = np.array([f"D{i:04d}" for i in range(300)])
    exact = maxsim.load(None, docids, tokens=tmp_path / "t.npy", lengths=tmp_path / "l.npy")
    every = maxsim.load(tmp_path / "ivf.faiss", docids, tokens=tmp_path / "t.npy",
                        lengths=tmp_path / "l.npy", nprobe=8, token_k=int(lengths.sum()))
    few = maxsim.load(tmp_path / "ivf.faiss", docids, tokens=tmp_path / "t.npy",
                      lengths=tmp_path / "l.npy", nprobe=1, token_k=4)
    queries = [rng.normal(size=(6, 16)).astype(np.float32) for _ in range(5)]
    for q in queries:
        e, a, f = exact.search(q, 10), every.search(q, 10), few.search(q, 10)
        np.testing.assert_array_equal(e[0], a[0])
        np.testing.assert_allclose(e[1], a[1], rtol=1e-6)
        assert len(few.candidates(q)) < 300  # the candidate stage does cut the corpus
        assert set(f[0]) <= set(few.candidates(q))


def test_config_checks_late_interaction_approaches():
    from shopbench.config import validate

    base = {"name": "x", "data": {"examples": "e.parquet", "products": "p.parquet"},
            "models": [{"name": "bi", "kind": "bi-encoder", "path": "m"},
                       {"name": "li", "kind": "late-interaction", "path": "c"}],
            "approaches": [{"name": "bm25", "type": "bm25"}]}
    ok = validate({**base, "approaches": base["approaches"] + [
        {"name": "lr", "type": "late-rerank", "model": "li", "run": "bm25"},
        {"name": "ls", "type": "late-interaction", "model": "li", "search": "ivf"}]})
    assert ok["approaches"][1]["depth"] == 50 and ok["approaches"][2]["nprobe"] == 32
    with pytest.raises(ShopbenchError, match="late-rerank approach 'lr' needs a "
                                             "late-interaction but model 'bi' is a bi-encoder"):
        validate({**base, "approaches": base["approaches"] + [
            {"name": "lr", "type": "late-rerank", "model": "bi", "run": "bm25"}]})
    with pytest.raises(ShopbenchError, match=r"models\[1\]\.query_prefix: a late-interaction "
                                             r"model uses its checkpoint's own markers"):
        validate({**base, "models": [base["models"][0],
                                     {**base["models"][1], "query_prefix": "query: "}]})
    with pytest.raises(ShopbenchError, match=r"models\[0\]\.stand_in: only late-interaction"):
        validate({**base, "models": [{**base["models"][0], "stand_in": True}]})


def test_table_caption_labels_stand_ins():
    from shopbench import report

    summary = pd.DataFrame({"approach": ["bm25", "late"], "mrr": [0.5, 0.6],
                            "mrr_ci_low": [0.4, 0.5], "mrr_ci_high": [0.6, 0.7]})
    md, tex, _ = report.paper_tables(summary, pd.DataFrame(), "bm25",
                                     {"E": 1, "S": .1, "C": .01, "I": 0},
                                     stand_ins={"late": "minilm-tokens"})
    assert "STAND-IN: late uses minilm-tokens" in md and "not a trained ColBERT" in tex
    plain, _, _ = report.paper_tables(summary, pd.DataFrame(), "bm25",
                                      {"E": 1, "S": .1, "C": .01, "I": 0})
    assert "STAND-IN" not in plain


def test_a_sentence_transformers_save_of_a_loaded_checkpoint_loads_the_same(tiny_late_models,
                                                                           tmp_path):
    """What MultiVectorEncoder.save writes (e.g. after fine-tuning) is a folder of the
    PyLate / sentence-transformers format, with the Stanford markers kept."""
    model = late.load_late_interaction(str(tiny_late_models["stanford"]), "st")
    model.save(str(tmp_path / "saved"))
    assert late.checkpoint_format(tmp_path / "saved") == "pylate"
    again = late.load_late_interaction(str(tmp_path / "saved"), "saved")
    assert again.prompts == model.prompts
    np.testing.assert_array_equal(late.encode_documents(model, ["red hat"], 1)[0],
                                  late.encode_documents(again, ["red hat"], 1)[0])
