"""Analyzers: text -> list of tokens, the same function for products and for queries.

An analyzer is named config data: a name and its options, e.g. ``notebook`` or
``{name: spanish, stopwords: true, fold_accents: true}``. :func:`make` turns that into a
plain function ``str -> list[str]``, so any BM25 backend (or anything else) can call it.

- ``notebook``: the notebook's tokenizer, ``[a-z0-9]+`` runs of the lowercased text. ASCII
  only: "cámara" becomes ["c", "mara"] and Japanese text no token at all.
- ``unicode``: NFKC, case folding, Unicode word tokens (letters and digits of any script);
  ``fold_accents`` strips combining marks ("cámara" -> "camara").
- ``english``, ``spanish``: ``unicode`` tokens, optional ``stopwords`` (bm25s' lists),
  Snowball stemming (PyStemmer), optional ``fold_accents`` after stemming.
- ``japanese``: NFKC and case folding, then ``method``: ``bigram`` (the default: overlapping
  character bigrams of CJK runs, as Lucene's CJKAnalyzer; other runs stay whole words),
  ``sudachi`` (SudachiPy with sudachidict-core, split mode A) or ``fugashi`` (MeCab with
  unidic-lite); the last two need ``pip install -e ".[japanese]"``. docs/approaches.md has the
  measurement behind the default.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

from .errors import ShopbenchError

Analyzer = Callable[[str], list[str]]

#: Options each analyzer takes, with their defaults.
OPTIONS: dict[str, dict[str, object]] = {
    "notebook": {},
    "unicode": {"fold_accents": False},
    "english": {"stopwords": False, "fold_accents": False},
    "spanish": {"stopwords": False, "fold_accents": False},
    "japanese": {"method": "bigram"},
}
JAPANESE_METHODS = ("sudachi", "fugashi", "bigram")
_SNOWBALL = {"english": "english", "spanish": "spanish"}

_NOTEBOOK = re.compile(r"[a-z0-9]+")
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+)")


def spec(value: str | dict | None) -> dict:
    """The full analyzer spec (name and every option) of a config value; errors name the key."""
    if value is None:
        value = "notebook"
    if isinstance(value, str):
        value = {"name": value}
    name = value.get("name")
    if name not in OPTIONS:
        raise ShopbenchError(f"unknown analyzer {name!r}; use one of {sorted(OPTIONS)}")
    unknown = sorted(set(value) - {"name"} - set(OPTIONS[name]))
    if unknown:
        allowed = sorted(OPTIONS[name]) or "none"
        raise ShopbenchError(f"analyzer {name!r} has no option(s) {unknown}; its options: "
                             f"{allowed}")
    full = {"name": name, **OPTIONS[name], **{k: v for k, v in value.items() if k != "name"}}
    if name == "japanese" and full["method"] not in JAPANESE_METHODS:
        raise ShopbenchError(f"analyzer 'japanese': unknown method {full['method']!r}; use one "
                             f"of {list(JAPANESE_METHODS)}")
    return full


def notebook(text: str) -> list[str]:
    """The notebook's tokenizer: ``[a-z0-9]+`` runs of the lowercased text."""
    return _NOTEBOOK.findall(text.lower())


def fold(text: str) -> str:
    """Strip accents: NFD, drop combining marks, NFC ("Cámara" -> "Camara"; ñ -> n)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def unicode_words(text: str, fold_accents: bool = False) -> list[str]:
    """NFKC, case folding, then runs of Unicode letters and digits."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if fold_accents:
        text = fold(text)
    return _WORD.findall(text)


@functools.lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(language)


@functools.lru_cache(maxsize=None)
def stopwords(language: str) -> frozenset[str]:
    """bm25s' stopword list for ``english`` or ``spanish`` (case-folded)."""
    from bm25s import stopwords as sw

    words = sw.STOPWORDS_EN if language == "english" else sw.STOPWORDS_SPANISH
    return frozenset(w.casefold() for w in words)


def snowball(text: str, language: str, use_stopwords: bool = False,
             fold_accents: bool = False) -> list[str]:
    tokens = unicode_words(text)
    if use_stopwords:
        stop = stopwords(language)
        tokens = [t for t in tokens if t not in stop]
    stems = _stemmer(_SNOWBALL[language]).stemWords(tokens)
    return [fold(s) for s in stems] if fold_accents else stems


def cjk_bigrams(text: str) -> list[str]:
    """Lucene CJK style: CJK runs -> overlapping bigrams (a lone character stays a unigram);
    other runs of letters and digits stay whole words."""
    out: list[str] = []
    for word in unicode_words(text):
        for part in _CJK.split(word):
            if not part:
                continue
            if _CJK.fullmatch(part):
                out.extend([part] if len(part) == 1 else
                           [part[i:i + 2] for i in range(len(part) - 1)])
            else:
                out.append(part)
    return out


def _optional(module: str, method: str, packages: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ShopbenchError(f"analyzer japanese, method {method}: needs {packages}, which are "
                             f"not installed; pip install -e \".[japanese]\" (or use method: "
                             f"bigram)") from None


@functools.lru_cache(maxsize=None)
def _sudachi():
    dictionary = _optional("sudachipy.dictionary", "sudachi", "SudachiPy and sudachidict-core")
    _optional("sudachidict_core", "sudachi", "SudachiPy and sudachidict-core")
    return dictionary.Dictionary(dict="core").tokenizer()


@functools.lru_cache(maxsize=None)
def _fugashi():
    fugashi = _optional("fugashi", "fugashi", "fugashi and unidic-lite")
    _optional("unidic_lite", "fugashi", "fugashi and unidic-lite")
    return fugashi.Tagger()


def _keep(surface: str) -> list[str]:
    """A morpheme's surface as tokens: its letter/digit runs (drops spaces, punctuation)."""
    return _WORD.findall(surface)


def sudachi(text: str) -> list[str]:
    tok = _sudachi()
    from sudachipy import tokenizer

    text = unicodedata.normalize("NFKC", text).casefold()
    mode = tokenizer.Tokenizer.SplitMode.A
    return [t for m in tok.tokenize(text, mode) for t in _keep(m.surface())]


def mecab(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return [t for w in _fugashi()(text) for t in _keep(w.surface)]


def make(value: str | dict | None) -> Analyzer:
    """The analyzer function of a config value (a name, or a dict with ``name`` and options)."""
    s = spec(value)
    name = s["name"]
    if name == "notebook":
        return notebook
    if name == "unicode":
        return functools.partial(unicode_words, fold_accents=bool(s["fold_accents"]))
    if name in _SNOWBALL:
        return functools.partial(snowball, language=name, use_stopwords=bool(s["stopwords"]),
                                 fold_accents=bool(s["fold_accents"]))
    return {"sudachi": sudachi, "fugashi": mecab, "bigram": cjk_bigrams}[s["method"]]


def describe(value: str | dict | None) -> str:
    """``english(stopwords=True)``: a short label for logs."""
    s = spec(value)
    opts = ", ".join(f"{k}={v}" for k, v in s.items() if k != "name")
    return f"{s['name']}({opts})" if opts else s["name"]


#: Analyzers whose tokens hold ASCII letters and digits only: every other letter of a text is
#: dropped ("galón" -> gal, n; Japanese text to its digits). The others keep the letters of
#: every script (stop words and stems aside), so only these are checked for dropped letters.
ASCII_ONLY = ("notebook",)


def drops_letters(value: str | dict | None) -> bool:
    """Whether the analyzer can drop non-ASCII letters (see ``ASCII_ONLY``)."""
    return spec(value)["name"] in ASCII_ONLY


def dropped_letters(text: str, tokens: list[str]) -> str:
    """The non-ASCII letters of ``text`` (NFKC, lowercased, each once, in order) that occur in
    no token; "" for an ASCII text. Meant for the ``ASCII_ONLY`` analyzers: an analyzer that
    folds accents or stems would have its folded letters counted as dropped."""
    if text.isascii():
        return ""
    kept = set("".join(tokens))
    return "".join(c for c in dict.fromkeys(unicodedata.normalize("NFKC", text).lower())
                   if not c.isascii() and c.isalpha() and c not in kept)


def dropped_report(texts: Iterable[str], analyze: Analyzer, ids: Iterable,
                   examples: int = 5) -> dict:
    """How many texts lose non-ASCII letters to ``analyze`` (ASCII texts are not analyzed
    again), with the first ``examples`` of them: id, text, tokens and the letters dropped."""
    count, shown = 0, []
    for text, ident in zip(texts, ids):
        text = str(text)
        if text.isascii():
            continue
        tokens = analyze(text)
        lost = dropped_letters(text, tokens)
        if lost:
            count += 1
            if len(shown) < examples:
                shown.append({"id": str(ident), "text": text[:80], "tokens": tokens[:12],
                              "dropped": lost})
    return {"count": count, "examples": shown}


def empty_report(texts: Iterable[str], tokens: Iterable[list[str]], ids: Iterable,
                 examples: int = 5) -> dict:
    """How many texts got no token, and the first ``examples`` of them (id and text)."""
    count, shown = 0, []
    for text, toks, ident in zip(texts, tokens, ids):
        if not toks:
            count += 1
            if len(shown) < examples:
                shown.append({"id": str(ident), "text": str(text)[:80]})
    return {"count": count, "examples": shown}
