"""The Lucene engine (optional install): BM25 against an independent computation of Lucene's
formula, its analyzers on the non-ASCII fixture, and the install and Java checks."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopbench import analyzers, lucene
from shopbench.backends import lucene as backend
from shopbench.errors import ShopbenchError

NONASCII = Path(__file__).resolve().parents[1] / "data" / "nonascii"


# -- Lucene's BM25, computed here from its definition ---------------------------------------
def int_to_byte4(i: int) -> int:
    """Lucene's SmallFloat.intToByte4: lengths below 24 exact, then 4 significant bits."""
    if i < 24:
        return i
    rest = i - 24
    bits = rest.bit_length()
    if bits < 4:
        return rest + 24
    shift = bits - 4
    return (((rest >> shift) & 0x07) | ((shift + 1) << 3)) + 24


def byte4_to_int(b: int) -> int:
    if b < 24:
        return b
    i = b - 24
    bits, shift = i & 0x07, (i >> 3) - 1
    return (bits if shift == -1 else (bits | 0x08) << shift) + 24


def lucene_bm25(docs: list[list[str]], query: list[str], k1: float, b: float) -> np.ndarray:
    """Every document's Lucene BM25 score: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), N the
    documents with a term; avgdl = all terms / N; the length as stored (one byte, lossy);
    a query term given n times counts n times."""
    n = sum(1 for d in docs if d)
    avgdl = sum(len(d) for d in docs) / n
    counts = [Counter(d) for d in docs]
    out = np.zeros(len(docs))
    for term, qtf in Counter(query).items():
        df = sum(1 for c in counts if term in c)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, c in enumerate(counts):
            if term in c:
                dl = byte4_to_int(int_to_byte4(len(docs[i])))
                out[i] += qtf * idf * c[term] / (c[term] + k1 * (1 - b + b * dl / avgdl))
    return out


def test_smallfloat_is_lossy_above_24():
    assert [byte4_to_int(int_to_byte4(i)) for i in (0, 23, 24, 25, 40, 41, 100)] == \
        [0, 23, 24, 25, 40, 40, 96]


def corpus(seed: int = 0, n: int = 300):
    """Products of 1 to 120 words (so lengths are stored lossily), a few duplicates (ties)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(60)]
    texts = [" ".join(rng.choice(vocab, rng.integers(1, 120), p=None)) for _ in range(n)]
    texts[10] = texts[20] = texts[30] = "only here " + texts[30]  # equal scores for any query
    texts[40] = ""  # no term
    docids = np.array([f"P{(7919 * i) % 1000:04d}" for i in range(n)])  # not in corpus order
    return texts, docids


def build(tmp_path, texts, analyzer, k1=1.2, b=0.75, threads=1):
    out = tmp_path / "index"
    backend.build({"text": lambda: iter([texts])}, str(out), analyzer=analyzer, k1=k1, b=b,
                  threads=threads)
    return out


@pytest.mark.parametrize("k1,b", [(0.9, 0.4), (1.5, 0.75)])
def test_bm25_top10_matches_lucenes_formula(tmp_path, k1, b):
    texts, docids = corpus()
    index = backend.load(str(build(tmp_path, texts, "notebook", k1, b)), docids)
    docs = [analyzers.notebook(t) for t in texts]
    queries = [["w1"], ["w2", "w3"], ["w4", "w4", "w5"], ["w1", "w9", "w17", "w33", "w58"],
               list(docs[30][:3])]
    for query in queries:
        expected = lucene_bm25(docs, query, k1, b)
        pos, scores = index.search(query, 10)
        # Lucene computes in float32: scores agree to float32 precision
        np.testing.assert_allclose(scores, expected[pos], rtol=2e-6)
        # the top 10 by the formula, equal scores (to float32 precision) by docid
        rounded = np.round(expected, 5)
        order = np.lexsort((docids, -rounded))
        order = order[expected[order] > 0][:10]
        assert pos.tolist() == order.tolist(), query
    # the duplicates tie and come in docid order
    pos, _ = index.search(["only", "here"], 5)
    assert pos.tolist() == sorted([10, 20, 30], key=lambda i: docids[i])


def test_batch_equals_one_at_a_time_and_score(tmp_path):
    texts, docids = corpus(1)
    index = backend.load(str(build(tmp_path, texts, "notebook", threads=2)), docids, threads=2)
    queries = [["w1", "w2"], [], ["nothing"], ["w5", "w5"]]
    batch = index.batch_search(queries, 7)
    for q, (pos, scores) in zip(queries, batch):
        one = index.search(q, 7)
        assert pos.tolist() == one[0].tolist() and scores.tolist() == one[1].tolist()
    assert len(batch[1][0]) == 0 and len(batch[2][0]) == 0  # no token, no match: empty runs
    positions = np.array([0, 3, 40, 99])
    expected = lucene_bm25([analyzers.notebook(t) for t in texts], ["w5", "w5"], 1.2, 0.75)
    np.testing.assert_allclose(index.score(["w5", "w5"], positions), expected[positions],
                               rtol=2e-6)
    index.close()


def test_index_records_products_without_terms(tmp_path):
    texts, docids = corpus()
    out = build(tmp_path, texts, {"name": "lucene", "language": "english"})
    import json

    meta = json.loads((out / "shopbench.json").read_text())
    assert meta["num_docs"] == len(texts)
    assert meta["empty_products"] == {"count": 1, "positions": [40]}
    assert meta["engine"].startswith("Lucene 9.")


def test_lucene_english_analyzer():
    assert lucene.analyze("The running dogs' abilities, USB-C", "english") == \
        ["run", "dog", "abil", "usb", "c"]
    assert analyzers.make({"name": "lucene"})("Running") == ["run"]


@pytest.mark.parametrize("language,locale", [("es", "es"), ("ja", "jp")])
def test_spanish_and_japanese_analyzers_on_the_fixture(tmp_path, language, locale):
    products = pd.read_csv(NONASCII / "shopping_queries_dataset_products.tsv", sep="\t")
    products = products[products["product_locale"] == locale]
    examples = pd.read_csv(NONASCII / "shopping_queries_dataset_examples.tsv", sep="\t")
    queries = examples[examples["product_locale"] == locale].drop_duplicates("query_id")
    analyzer = {"name": "lucene", "language": language}
    texts = (products["product_title"] + " " + products["product_description"]).tolist()
    index = backend.load(str(build(tmp_path, texts, analyzer)), products["product_id"].to_numpy())
    analyze = analyzers.make(analyzer)
    runs = index.batch_search([analyze(q) for q in queries["query"]], 10)
    assert len(runs) == len(queries) >= 8
    assert all(len(pos) > 0 for pos, _ in runs)  # every query finds products
    # each query's Exact product is among its results
    exact = examples[(examples["product_locale"] == locale) & (examples["esci_label"] == "E")]
    ids = products["product_id"].to_numpy()
    found = {qid: set(ids[pos]) for qid, (pos, _) in zip(queries["query_id"], runs)}
    assert sum(row.product_id in found[row.query_id] for row in exact.itertuples()) \
        >= len(exact) - 1


def test_japanese_analyzer_segments_words():
    assert lucene.analyze("東京都に住んでいます", "ja") == ["東京", "都", "住む"]
    assert lucene.analyze("cámaras digitales", "es") == ["camar", "digital"]


def config_with(approach: dict) -> dict:
    demo = Path(__file__).resolve().parents[2] / "data" / "demo"
    return {"name": "lucene",
            "data": {"examples": str(demo / "shopping_queries_dataset_examples.parquet"),
                     "products": str(demo / "shopping_queries_dataset_products.parquet")},
            "models": [{"name": "mini", "kind": "bi-encoder", "path": "some/bi-encoder"}],
            "approaches": [approach]}


# -- install and Java checks ----------------------------------------------------------------
def test_parse_java_version():
    assert lucene.parse_java_version('openjdk version "17.0.15" 2025-04-15') == 17
    assert lucene.parse_java_version('java version "1.8.0_392"') == 8
    assert lucene.parse_java_version('openjdk version "25" 2025-09-16') == 25
    assert lucene.parse_java_version("no version here") is None


def fake_java(tmp_path, banner: str) -> Path:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
    java.chmod(0o755)
    return home


def test_too_old_java_says_what_it_found_and_what_is_needed(tmp_path):
    home = fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')
    with pytest.raises(ShopbenchError, match=r"found Java 17 at .*needs Java 21 or newer.*"
                                             r"requirements-lucene.txt"):
        lucene.check_java(home)


def test_missing_java(tmp_path):
    with pytest.raises(ShopbenchError, match=r"no Java found: .*bin/java does not exist.*"
                                             r"Java 21"):
        lucene.check_java(tmp_path / "nowhere")


def test_installed_java_is_new_enough():
    assert lucene.check_java() >= lucene.MIN_JAVA


def test_missing_engine_stops_the_config_with_the_install_command(monkeypatch):
    from shopbench.config import validate

    config = config_with({"name": "bm25-lucene", "type": "bm25", "backend": "lucene",
                          "analyzer": "lucene"})
    validate(config)  # installed: accepted
    monkeypatch.setitem(lucene.MODULES, "shopbench_no_such_module", "pyserini")
    with pytest.raises(ShopbenchError, match=r"approaches\[0\].*needs the Lucene engine.*"
                                             r"pip install --no-deps -r requirements-lucene"):
        validate(config)


@pytest.mark.parametrize("key,value", [("pad_zero_scores", True), ("ties", "notebook"),
                                       ("fields", {"product_title": 1.0})])
def test_lucene_rejects_what_it_cannot_do(key, value):
    from shopbench.config import validate

    config = config_with({"name": "bm25-lucene", "type": "bm25", "backend": "lucene",
                          key: value})
    with pytest.raises(ShopbenchError, match=r"approaches\[0\].*backend lucene"):
        validate(config)


# -- Lucene HNSW ----------------------------------------------------------------------------
def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim))
    x = centres[rng.integers(0, 50, n)] + 0.5 * rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def hnsw_index(tmp_path, emb, name="hnsw", ef_search=100, **settings):
    from shopbench import backends

    np.save(tmp_path / f"{name}.npy", emb)
    backends.get("lucene_hnsw").build(str(tmp_path / f"{name}.npy"),
                                      str(tmp_path / f"{name}.faiss"), **settings)
    docids = np.array([f"P{(7919 * i) % 10007:05d}" for i in range(len(emb))], dtype=object)
    return backends.get("lucene_hnsw").load(str(tmp_path / f"{name}.faiss"), docids,
                                            ef_search=ef_search), docids


def test_lucene_hnsw_recall_against_flat(tmp_path):
    from shopbench.trec import top_k

    emb = clustered(3000)
    queries = clustered(60, seed=1)
    index, docids = hnsw_index(tmp_path, emb, hnsw_m=16, ef_construction=100)
    found = 0
    for q, (pos, scores) in zip(queries, index.batch_search(queries, 10)):
        exact, exact_scores = top_k(emb @ q, docids, 10)
        found += len(set(pos.tolist()) & set(exact.tolist()))
        # scores are the exact inner products of what it found, ranked score then docid
        np.testing.assert_allclose(scores, emb[pos] @ q, rtol=1e-6)
        assert np.all(np.diff(scores) <= 0)
    recall = found / (10 * len(queries))
    assert recall >= 0.95, recall
    # a tiny candidate list finds less than a large one
    small, _ = hnsw_index(tmp_path, emb, name="small", ef_search=1, hnsw_m=4,
                          ef_construction=8)
    small_found = sum(len(set(small.search(q, 10)[0].tolist())
                          & set(top_k(emb @ q, docids, 10)[0].tolist())) for q in queries)
    assert small_found < found


def test_lucene_hnsw_builds_are_the_same_graph(tmp_path):
    emb = clustered(800, seed=2)
    queries = clustered(20, seed=3)
    a, _ = hnsw_index(tmp_path, emb, name="a", ef_search=10, hnsw_m=4, ef_construction=10)
    b, _ = hnsw_index(tmp_path, emb, name="b", ef_search=10, hnsw_m=4, ef_construction=10)
    for (pa, sa), (pb, sb) in zip(a.batch_search(queries, 10), b.batch_search(queries, 10)):
        assert pa.tolist() == pb.tolist() and sa.tolist() == sb.tolist()


def test_readme_and_ci_install_the_engine():
    repo = Path(__file__).resolve().parents[2]
    line = "python3 -m pip install --no-deps -r requirements-lucene.txt"
    assert line in (repo / "README.md").read_text(encoding="utf-8").splitlines()
    assert line in (repo / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    pins = (repo / "requirements-lucene.txt").read_text(encoding="utf-8").splitlines()
    env = (repo / "envs" / "lucene.yaml").read_text(encoding="utf-8")
    for pin in (p for p in pins if p and not p.startswith("#")):
        assert "==" in pin and f"- {pin}" in env, pin


def test_jvm_heap_from_the_jobs_memory_and_no_java_warnings(tmp_path):
    """A fresh process: -Xmx from configure(mem_mb); indexing and searching print nothing."""
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    code = f"""
import sys; sys.path.insert(0, {str(src)!r})
from shopbench import lucene
from shopbench.backends import lucene as backend
import numpy as np
lucene.configure(384)
backend.build({{"text": lambda: iter([["red shoes", "blue shirt"]])}}, {str(tmp_path / "i")!r},
              analyzer="lucene", k1=0.9, b=0.4)
index = backend.load({str(tmp_path / "i")!r}, np.array(["a", "b"]))
assert index.search(["shoe"], 10)[0].tolist() == [0]
print(lucene.autoclass("java.lang.Runtime").getRuntime().maxMemory() // 2**20)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert 300 <= int(out.stdout.strip()) <= 384
    assert out.stderr == ""
