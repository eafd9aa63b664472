"""BM25 zero-score removal and field weighting, fusion methods, query normalization: each
checked against values computed by hand (in the comments)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from shopbench import analyzers, bm25, fusion
from shopbench import normalize as N
from shopbench.errors import ShopbenchError

DOCIDS = np.array(["a", "b", "c"])
TITLES = ["red shoe", "blue mug", "green hat"]  # 2 tokens each: dl == avgdl


@pytest.mark.parametrize("backend", ["rank_bm25", "bm25s"])
def test_bm25_returns_only_matches(backend):
    scorer = bm25.BM25Scorer(TITLES, backend=backend)
    ranked, scores, _ = bm25.search(scorer, DOCIDS, ["red", "purple"], 100)
    # idf(red) = ln((3 - 1 + .5) / (1 + .5)) (Robertson, both backends); tf 1 at average
    # length: tf part (1.5 + 1) / (1 + 1.5) = 1
    idf = math.log(2.5 / 1.5)
    assert ranked == [["a"], []]
    assert scores[0].tolist() == pytest.approx([idf])


def test_bm25_pad_zero_scores_is_the_notebooks_top_k():
    scorer = bm25.BM25Scorer(TITLES)
    ranked, scores, _ = bm25.search(scorer, DOCIDS[::-1].copy(), ["purple", "red"], 2,
                                    pad_zero_scores=True)
    # docids reversed: "red shoe" is c; no match -> the first k by docid, all at 0; "red":
    # c, then the best of the zeros by docid (a)
    assert ranked == [["a", "b"], ["c", "a"]]
    assert scores[0].tolist() == [0.0, 0.0]


def test_bm25_takes_the_analyzers_tokens():
    texts = ["Cámara digital", "Cámaras réflex", "Funda"]
    plain = bm25.BM25Scorer(texts, analyzer=analyzers.make("notebook"))
    spanish = bm25.BM25Scorer(texts, analyzer=analyzers.make("spanish"))
    # notebook: "cámaras" -> c, maras: matches the "c" of both cámara products, never "cámara"
    assert (plain.scores("cámaras") > 0).tolist() == [True, True, False]
    # spanish: cámara and cámaras share a stem; digital / réflex make no difference
    sc = spanish.scores("cámaras")
    assert sc[0] == pytest.approx(sc[1]) and sc[0] > 0 and sc[2] == 0
    assert bm25.BM25Scorer(["抹茶", "red"]).empty_docs == [0]


def test_fielded_bm25_is_the_weighted_sum_of_field_scores():
    desc = ["cotton", "red dye", "wool"]  # lengths 1, 2, 1: avgdl 4/3
    scorer = bm25.FieldedBM25({"title": (TITLES, 3.0), "desc": (desc, 0.5)})
    idf = math.log(2.5 / 1.5)
    # title: doc a, tf 1 at average length -> idf. desc: doc b, tf 1, dl 2:
    # idf * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2 / (4 / 3)))
    desc_b = idf * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2 / (4 / 3)))
    np.testing.assert_allclose(scorer.scores("red"), [3 * idf, 0.5 * desc_b, 0.0])
    ranked, _, _ = bm25.search(scorer, DOCIDS, ["red"], 10)
    assert ranked == [["a", "b"]]


@pytest.mark.parametrize("backend", ["rank_bm25", "bm25s"])
def test_field_weighted_bm25_step_searches_the_persisted_field_indexes(tmp_path, backend):
    """bm25_index indexes each field of fields.parquet on its own; the bm25 step applies the
    weights at search time: the scores of test_fielded_bm25_is_the_weighted_sum_..."""
    from shopbench import steps, trec

    desc = ["cotton", "red dye", "wool"]
    pd.DataFrame({"docid": DOCIDS, "title": TITLES, "text": TITLES}).to_parquet(
        tmp_path / "corpus.parquet")
    pd.DataFrame({"docid": DOCIDS, "product_title": TITLES, "product_description": desc}) \
        .to_parquet(tmp_path / "fields.parquet")
    trec.write_tsv(pd.DataFrame({"qid": [1, 2], "query": ["red", "purple"]}),
                   tmp_path / "queries.tsv")
    index = str(tmp_path / "bm25")
    steps.bm25_index(corpus=str(tmp_path / "corpus.parquet"), index_out=index, backend=backend,
                     analyzer="notebook", k1=1.5, b=0.75,
                     fields=["product_title", "product_description"],
                     fields_file=str(tmp_path / "fields.parquet"))
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir()) == [
        "dropped_letters.json", "product_description", "product_title", "shopbench.json"]
    steps.bm25(index=index, corpus=str(tmp_path / "corpus.parquet"),
               queries=str(tmp_path / "queries.tsv"), run_out=str(tmp_path / "run.tsv"),
               latency_out=str(tmp_path / "lat.tsv"), analysis_out=str(tmp_path / "a.json"),
               approach="bm25", k=10, backend=backend,
               fields={"product_title": 3.0, "product_description": 0.5})
    run = trec.read_run(tmp_path / "run.tsv")
    idf = math.log(2.5 / 1.5)
    desc_b = idf * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2 / (4 / 3)))
    assert run["qid"].tolist() == [1, 1] and run["docid"].tolist() == ["a", "b"]
    np.testing.assert_allclose(run["score"], [3 * idf, 0.5 * desc_b], rtol=1e-5)
    assert pd.read_csv(tmp_path / "lat.tsv", sep="\t")["qid"].tolist() == [1, 2]


def _runs():
    a = pd.DataFrame({"qid": 1, "docid": ["a", "b", "c"], "rank": [1, 2, 3],
                      "score": [3.0, 2.0, 1.0]})
    b = pd.DataFrame({"qid": 1, "docid": ["b", "d"], "rank": [1, 2], "score": [0.9, 0.5]})
    return [a, b]


@pytest.mark.parametrize("method, weights, normalization, expected", [
    # a 1/61, b 1/62 + 1/61, c 1/63, d 1/62
    ("rrf", None, "min-max", {"b": 1 / 62 + 1 / 61, "a": 1 / 61, "d": 1 / 62, "c": 1 / 63}),
    # weights 2, 1: a 2/61, b 2/62 + 1/61, c 2/63, d 1/62
    ("rrf", [2, 1], "min-max", {"b": 2 / 62 + 1 / 61, "a": 2 / 61, "c": 2 / 63, "d": 1 / 62}),
    # min-max: run 1 a 1, b .5, c 0; run 2 b 1, d 0
    ("combsum", None, "min-max", {"b": 1.5, "a": 1.0, "c": 0.0, "d": 0.0}),
    ("combmnz", None, "min-max", {"b": 3.0, "a": 1.0, "c": 0.0, "d": 0.0}),
    ("combsum", [1, 3], "min-max", {"b": 3.5, "a": 1.0, "c": 0.0, "d": 0.0}),
    # z-score: run 1 mean 2, std sqrt(2/3); run 2 mean .7, std .2
    ("combsum", None, "z-score", {"a": 1 / math.sqrt(2 / 3), "b": 1.0, "d": -1.0,
                                  "c": -1 / math.sqrt(2 / 3)}),
    # l2: run 1 / sqrt(14); run 2 / sqrt(1.06)
    ("combsum", None, "l2", {"b": 2 / math.sqrt(14) + 0.9 / math.sqrt(1.06),
                             "a": 3 / math.sqrt(14), "d": 0.5 / math.sqrt(1.06),
                             "c": 1 / math.sqrt(14)}),
])
def test_fusion_methods_hand_computed(method, weights, normalization, expected):
    qids, ranked, scores, seconds = fusion.fuse(_runs(), method, 60, 100, weights,
                                                normalization)
    assert qids == [1] and len(seconds) == 1 and seconds[0] >= 0
    assert ranked[0] == list(expected)  # best first, ties (c, d at 0) by docid
    np.testing.assert_allclose(scores[0], list(expected.values()), rtol=1e-12)


def test_fusion_falls_back_to_the_other_run_for_an_empty_query():
    dense = pd.DataFrame({"qid": [1, 1, 2], "docid": ["x", "y", "z"], "rank": [1, 2, 1],
                          "score": [0.9, 0.8, 0.7]})
    empty_bm25 = pd.DataFrame({"qid": [1], "docid": ["y"], "rank": [1], "score": [4.0]})
    qids, ranked, _, seconds = fusion.fuse([dense, empty_bm25], "rrf")
    assert qids == [1, 2] and ranked[1] == ["z"] and len(seconds) == 2


def test_normalizations_of_equal_and_zero_scores():
    assert fusion.normalize([2.0, 2.0], "min-max") == [1.0, 1.0]
    assert fusion.normalize([2.0, 2.0], "z-score") == [0.0, 0.0]
    assert fusion.normalize([0.0], "l2") == [0.0]


@pytest.mark.parametrize("args, message", [
    (("borda", 2, None, "min-max"), "unknown fusion method 'borda'"),
    (("combsum", 2, None, "minmax"), "unknown score normalization 'minmax'"),
    (("rrf", 2, [1.0], "min-max"), "1 weight(s) for 2 runs"),
    (("rrf", 2, [0, 0], "min-max"), "one must be positive"),
    (("rrf", 2, [1, -1], "min-max"), "none may be negative"),
])
def test_bad_fusion_settings_are_rejected(args, message):
    with pytest.raises(ShopbenchError, match=re.escape(message)):
        fusion.check(*args)


def test_s_stemmer_and_spanish_plurals():
    assert [N.s_stemmer(w) for w in ["batteries", "shoes", "cables", "glass", "bus", "series"]] \
        == ["battery", "shoe", "cable", "glass", "bus", "sery"]
    assert [N.spanish_plural(w) for w in ["cámaras", "luces", "sartenes", "zapatos", "mes"]] \
        == ["cámara", "luz", "sarten", "zapato", "mes"]


def test_spelling_keeps_corpus_words():
    plain = N.Speller("english", [])
    assert plain.correct("bluetoth") == "bluetooth"
    assert plain.correct("airpods") != "airpods"  # a product name "corrected" away
    with_corpus = N.Speller("english", ["airpods", "ecloth"])
    assert with_corpus.correct("airpods") == "airpods"
    assert with_corpus.correct("ecloth") == "ecloth"
    assert with_corpus.correct("usb") == "usb" and with_corpus.correct("4k60") == "4k60"


def test_normalizer_chain_records_each_change():
    norm = N.Normalizer({"name": "n", "steps": ["unicode", "spelling", "plurals"]},
                        vocabulary=["headphones"])
    text, changes = norm("Wireless  Ｈeadphnes")
    assert text == "wireless headphone"
    assert changes == ("unicode: 'Wireless  Ｈeadphnes'->'wireless headphnes'; "
                       "spelling: headphnes->headphones; plurals: headphones->headphone")
    assert norm("usb cable") == ("usb cable", "")
    stem = N.Normalizer({"name": "s", "steps": ["stem"], "language": "english"})
    assert stem("running shoes") == ("run shoe", "stem: running->run, shoes->shoe")


@pytest.mark.parametrize("spec, message", [
    ({"name": "n", "steps": []}, "steps is empty"),
    ({"name": "n", "steps": ["lowercase"]}, "unknown step 'lowercase'"),
    ({"name": "n", "steps": ["stem"], "language": "german"}, "unknown language 'german'"),
])
def test_bad_normalizations_are_rejected(spec, message):
    with pytest.raises(ShopbenchError, match=re.escape(message)):
        N.check(spec)


def test_fusion_step_writes_each_querys_own_latency(tmp_path):
    """Issue 12 item 10: fusion latency is measured per query, not one average copied."""
    from shopbench import steps, trec

    rng = np.random.default_rng(0)
    paths = []
    for r in range(2):
        sizes = {1: 1, 2: 100, 3: 2000}
        frame = pd.concat([pd.DataFrame({
            "qid": q, "docid": [f"d{i:05d}" for i in rng.permutation(5000)[:n]],
            "rank": np.arange(1, n + 1), "score": np.sort(rng.random(n))[::-1]})
            for q, n in sizes.items()])
        run = trec.run_frame(*zip(*[(q, g["docid"].tolist(), g["score"].to_numpy())
                                    for q, g in frame.groupby("qid")]), f"r{r}")
        trec.write_run(run, tmp_path / f"r{r}.tsv")
        paths.append(str(tmp_path / f"r{r}.tsv"))
    steps.fusion(runs=paths, run_out=str(tmp_path / "f.tsv"),
                 latency_out=str(tmp_path / "lat.tsv"), approach="f", k=60, depth=2000,
                 method="combmnz", weights=[1, 2], normalization="z-score")
    lat = pd.read_csv(tmp_path / "lat.tsv", sep="\t")
    assert lat["qid"].tolist() == [1, 2, 3]
    assert (lat["seconds"] > 0).all() and lat["seconds"].nunique() == 3
    fused = trec.read_run(tmp_path / "f.tsv")
    union = pd.concat([trec.read_run(p) for p in paths]).groupby("qid")["docid"].nunique()
    assert fused.groupby("qid").size().tolist() == union.tolist()
