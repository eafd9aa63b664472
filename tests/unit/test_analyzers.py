"""Analyzers (notebook, unicode, english, spanish, japanese) against hand-computed tokens."""

from __future__ import annotations

import pytest

from shopbench import analyzers as A
from shopbench.errors import ShopbenchError


def test_notebook_is_the_ascii_tokenizer_and_breaks_accents():
    assert A.make("notebook")("Cámara DIGITAL, 20MP") == ["c", "mara", "digital", "20mp"]
    assert A.make(None)("ワイヤレスイヤホン") == []


def test_unicode_nfkc_casefold_and_accent_folding():
    # NFKC turns full-width letters/digits into ASCII; casefold turns ß into ss
    assert A.make("unicode")("Cámara ＡＢＣ１２ Straße_x") == ["cámara", "abc12", "strasse", "x"]
    assert A.make({"name": "unicode", "fold_accents": True})("Cámara Niño") == ["camara", "nino"]


def test_english_stems_and_drops_stopwords_on_request():
    assert A.make("english")("The running shoes") == ["the", "run", "shoe"]
    assert A.make({"name": "english", "stopwords": True})("The running shoes for kids") == [
        "run", "shoe", "kid"]


def test_spanish_stems_with_optional_stopwords_and_folding():
    plain = A.make("spanish")("Las cámaras")
    assert plain[0] == "las" and A.make("spanish")("cámara") == A.make("spanish")("cámaras")
    stop = A.make({"name": "spanish", "stopwords": True})("las cámaras de fotos")
    assert "las" not in stop and "de" not in stop and len(stop) == 2
    folded = A.make({"name": "spanish", "fold_accents": True})("cámaras")
    assert folded == [A.fold(t) for t in A.make("spanish")("cámaras")]
    assert all(t.isascii() for t in folded)


def test_japanese_bigrams_as_lucene_cjk():
    bigram = A.make("japanese")  # the default method
    assert bigram("ワイヤレスイヤホン ５.０") == ["ワイ", "イヤ", "ヤレ", "レス", "スイ", "イヤ",
                                                  "ヤホ", "ホン", "5", "0"]
    assert bigram("bluetooth対応 茶") == ["bluetooth", "対応", "茶"]


@pytest.mark.parametrize("method", ["sudachi", "fugashi"])
def test_japanese_morphological_methods_split_words(method):
    tokens = A.make({"name": "japanese", "method": method})("電動歯ブラシ 替えブラシ、５本")
    assert "ブラシ" in tokens and "5" in tokens and "、" not in tokens and " " not in tokens


def test_empty_report_counts_and_shows_examples():
    texts = ["キャンプ 椅子", "red shoes", "抹茶"]
    rep = A.empty_report(texts, map(A.notebook, texts), [1, 2, 3], examples=1)
    assert rep == {"count": 2, "examples": [{"id": "1", "text": "キャンプ 椅子"}]}


@pytest.mark.parametrize("value, message", [
    ("englsh", "unknown analyzer 'englsh'"),
    ({"name": "notebook", "stopwords": True}, "analyzer 'notebook' has no option(s) ['stopwords']"),
    ({"name": "japanese", "method": "mecab"}, "unknown method 'mecab'"),
    ({"stopwords": True}, "unknown analyzer None"),
])
def test_bad_analyzers_are_rejected(value, message):
    with pytest.raises(ShopbenchError, match=__import__("re").escape(message)):
        A.make(value)


def test_describe_names_the_options():
    assert A.describe({"name": "english", "stopwords": True}) == (
        "english(stopwords=True, fold_accents=False)")
    assert A.describe("notebook") == "notebook"


def test_dropped_letters_of_the_notebook_tokenizer():
    nb = A.make("notebook")
    assert A.drops_letters("notebook")
    assert not any(A.drops_letters(a) for a in ("unicode", "english", "spanish",
                                                         "japanese"))
    # "galón" -> gal, n: the ó is dropped, once per letter, in order
    assert nb("galón de agua") == ["gal", "n", "de", "agua"]
    assert A.dropped_letters("galón de agua", nb("galón de agua")) == "ó"
    assert A.dropped_letters("Teléfono móvil", nb("Teléfono móvil")) == "éó"
    # Japanese reduced to its digits (no empty token list, but junk)
    text = "ビタミンC 200mg"
    assert nb(text) == ["c", "200mg"]
    assert A.dropped_letters(text, nb(text)) == "ビタミン"
    assert A.dropped_letters("plain text", nb("plain text")) == ""
    # letters an analyzer keeps are not dropped
    uni = A.make("unicode")
    assert A.dropped_letters("galón de agua", uni("galón de agua")) == ""


def test_dropped_report_counts_texts_and_shows_examples():
    nb = A.make("notebook")
    texts = ["red shoe", "galón de agua", "ビタミンC 200mg", "café", "blue mug"]
    report = A.dropped_report(texts, nb, [1, 2, 3, 4, 5], examples=2)
    assert report["count"] == 3
    assert report["examples"] == [
        {"id": "2", "text": "galón de agua", "tokens": ["gal", "n", "de", "agua"],
         "dropped": "ó"},
        {"id": "3", "text": "ビタミンC 200mg", "tokens": ["c", "200mg"], "dropped": "ビタミン"}]


def test_bm25_steps_report_dropped_letters_of_queries_and_products(tmp_path, caplog):
    """The index counts products that lose letters, the search the queries; both reach the
    analysis file (provenance) and the log. An analyzer that keeps them reports nothing."""
    import json
    import logging

    import pandas as pd

    from shopbench import steps, trec

    titles = ["red shoe", "teléfono móvil", "galón de agua", "blue mug"]
    pd.DataFrame({"docid": ["a", "b", "c", "d"], "title": titles, "text": titles}).to_parquet(
        tmp_path / "corpus.parquet")
    trec.write_tsv(pd.DataFrame({"qid": [1, 2, 3], "query": ["red shoe", "galón", "ビタミンC"]}),
                   tmp_path / "queries.tsv")
    for analyzer, expected in (("notebook", (2, 2)), ("unicode", None)):
        index = tmp_path / f"bm25-{analyzer}"
        steps.bm25_index(corpus=str(tmp_path / "corpus.parquet"), index_out=str(index),
                         backend="rank_bm25", analyzer=analyzer, k1=1.5, b=0.75)
        with caplog.at_level(logging.WARNING, logger="shopbench"):
            caplog.clear()
            steps.bm25(index=str(index), corpus=str(tmp_path / "corpus.parquet"),
                       queries=str(tmp_path / "queries.tsv"),
                       run_out=str(tmp_path / f"run-{analyzer}.tsv"),
                       latency_out=str(tmp_path / f"lat-{analyzer}.tsv"),
                       analysis_out=str(tmp_path / f"{analyzer}.json"), approach="bm25", k=10,
                       backend="rank_bm25", analyzer=analyzer)
        report = json.loads((tmp_path / f"{analyzer}.json").read_text(encoding="utf-8"))
        if expected is None:
            assert "dropped_letters" not in report["queries"]
            assert "drops the non-ASCII letters" not in caplog.text
            continue
        products = json.loads((index / "dropped_letters.json").read_text(encoding="utf-8"))
        assert products["count"] == 2
        assert [e["id"] for e in products["examples"]] == ["b", "c"]
        assert products["examples"][0]["dropped"] == "éó"
        assert report["queries"]["dropped_letters"]["count"] == expected[0]
        assert report["products"]["dropped_letters"]["count"] == expected[1]
        assert ("analyzer notebook drops the non-ASCII letters of 2 of 3 queries" in caplog.text)
        assert ("analyzer notebook drops the non-ASCII letters of 2 of 4 products" in caplog.text)
        assert "'galón' -> ['gal', 'n'] (drops ó)" in caplog.text
