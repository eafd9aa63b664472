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
