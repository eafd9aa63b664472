"""Query normalization: named chains of steps applied to the query text before retrieval.

A normalization is config data (``query_normalizations:`` in the config), e.g.
``{name: clean, steps: [unicode, spelling, plurals], language: english}``; approaches use it
with ``query_normalization: clean``. Steps, applied in the order given:

- ``unicode``: NFKC, case folding, runs of whitespace collapsed.
- ``spelling``: words (letters only, at least ``min_word_length`` long) unknown to the
  language's dictionary (pyspellchecker's, as shipped) *and* to the corpus vocabulary are
  replaced by pyspellchecker's correction (edit distance up to ``max_edit_distance``). The
  corpus vocabulary keeps product names ("ecloth", "airpods") from being "corrected" away.
- ``plurals``: plural folding of words: English with Harman's S-stemmer ("batteries" ->
  "battery", "shoes" -> "shoe", "glasses" -> "glass"), Spanish "-es"/"-s" removal.
- ``stem``: Snowball stem of each word (PyStemmer), for analyzers that do not stem.

Every step records which words it changed, so each query's changes can be shown next to it.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterable

from .errors import ShopbenchError

STEPS = ("unicode", "spelling", "plurals", "stem")
LANGUAGES = {"english": "en", "spanish": "es"}
DEFAULTS = {"language": "english", "min_word_length": 4, "max_edit_distance": 2}
_LETTERS = re.compile(r"^[^\W\d_]+$")


def check(spec: dict) -> dict:
    """A full normalization spec (defaults filled in); ShopbenchError on a bad step/option."""
    steps = spec.get("steps") or []
    if not steps:
        raise ShopbenchError(f"query normalization {spec.get('name')!r}: steps is empty")
    for step in steps:
        if step not in STEPS:
            raise ShopbenchError(f"query normalization {spec.get('name')!r}: unknown step "
                                 f"{step!r}; use one of {list(STEPS)}")
    full = {**DEFAULTS, **spec}
    if full["language"] not in LANGUAGES:
        raise ShopbenchError(f"query normalization {spec.get('name')!r}: unknown language "
                             f"{full['language']!r}; use one of {sorted(LANGUAGES)}")
    return full


def unicode_step(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def s_stemmer(word: str) -> str:
    """Harman's (1991) S-stemmer: ies -> y, es -> e, s -> '' (with its exceptions)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def spanish_plural(word: str) -> str:
    """Spanish plural folding: -ces -> -z, -es after a consonant -> '', -s after a vowel -> ''."""
    if len(word) > 4 and word.endswith("ces"):
        return word[:-3] + "z"
    if len(word) > 4 and word.endswith("es") and word[-3] not in "aeiouáéíóú":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and word[-2] in "aeiouáéíóú":
        return word[:-1]
    return word


class Speller:
    """pyspellchecker with its shipped dictionary plus the corpus vocabulary."""

    def __init__(self, language: str, vocabulary: Iterable[str], max_edit_distance: int = 2,
                 min_word_length: int = 4):
        from spellchecker import SpellChecker

        self._spell = SpellChecker(language=LANGUAGES[language], distance=max_edit_distance)
        self._spell.word_frequency.load_words([w for w in vocabulary if _LETTERS.match(w)])
        self.min_word_length = min_word_length

    def correct(self, word: str) -> str:
        if len(word) < self.min_word_length or not _LETTERS.match(word):
            return word
        if word.casefold() in self._spell:
            return word
        return self._spell.correction(word.casefold()) or word


def _by_word(fn: Callable[[str], str]) -> Callable[[str], tuple[str, list[str]]]:
    def apply(text: str) -> tuple[str, list[str]]:
        out, changes = [], []
        for word in text.split():
            new = fn(word) if _LETTERS.match(word) else word
            if new != word:
                changes.append(f"{word}->{new}")
            out.append(new)
        return " ".join(out), changes
    return apply


class Normalizer:
    """Apply a normalization spec to query texts; ``vocabulary`` is needed by ``spelling``."""

    def __init__(self, spec: dict, vocabulary: Iterable[str] = ()):
        self.spec = check(spec)
        lang = self.spec["language"]
        self._steps: list[tuple[str, Callable[[str], tuple[str, list[str]]]]] = []
        for step in self.spec["steps"]:
            if step == "unicode":
                self._steps.append((step, lambda t: (unicode_step(t), [])))
            elif step == "spelling":
                speller = Speller(lang, vocabulary, self.spec["max_edit_distance"],
                                  self.spec["min_word_length"])
                self._steps.append((step, _by_word(speller.correct)))
            elif step == "plurals":
                self._steps.append((step, _by_word(s_stemmer if lang == "english"
                                                   else spanish_plural)))
            else:
                self._steps.append((step, _by_word(_stem_word(lang))))

    def __call__(self, text: str) -> tuple[str, str]:
        """The normalized text, and its changes, e.g. ``spelling: bluetoth->bluetooth``."""
        notes = []
        for name, step in self._steps:
            new, changes = step(text)
            if new != text and not changes:
                changes = [f"{text!r}->{new!r}"]
            if changes:
                notes.append(f"{name}: {', '.join(changes)}")
            text = new
        return text, "; ".join(notes)

    def run(self, queries: list[str]) -> tuple[list[str], list[str], list[float]]:
        """Normalized texts, changes and per-query seconds."""
        texts, notes, seconds = [], [], []
        for query in queries:
            start = time.perf_counter()
            text, note = self(query)
            seconds.append(time.perf_counter() - start)
            texts.append(text)
            notes.append(note)
        return texts, notes, seconds


def _stem_word(language: str) -> Callable[[str], str]:
    from .analyzers import _stemmer

    stem = _stemmer(language)
    return lambda w: stem.stemWord(w)
