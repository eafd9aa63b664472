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
- ``dictionary``: whole tokens and token sequences rewritten from a mapping (abbreviations to
  full forms: "tv" -> "television", "w/" -> "with"), the file ``dictionary`` (TSV or YAML) or
  the shipped product-search one (:data:`DEFAULT_DICTIONARY`); ``dictionary_mode: append``
  keeps the matched tokens and adds the expansion after them. See :class:`Dictionary`.

Every step records which words it changed, so each query's changes can be shown next to it.
"""

from __future__ import annotations

import bisect
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ShopbenchError

STEPS = ("unicode", "spelling", "plurals", "stem", "dictionary")
LANGUAGES = {"english": "en", "spanish": "es"}
DICTIONARY_MODES = ("replace", "append")
DEFAULTS = {"language": "english", "min_word_length": 4, "max_edit_distance": 2,
            "dictionary": None, "dictionary_mode": "replace"}
#: The product-search dictionary shipped with the package (``dictionary: null``).
DEFAULT_DICTIONARY = Path(__file__).resolve().parent / "dictionaries" / "product-search.tsv"
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
    if full["dictionary_mode"] not in DICTIONARY_MODES:
        raise ShopbenchError(f"query normalization {spec.get('name')!r}: unknown "
                             f"dictionary_mode {full['dictionary_mode']!r}; use one of "
                             f"{list(DICTIONARY_MODES)}")
    return full


def dictionary_path(spec: dict) -> Path | None:
    """The dictionary file a normalization reads (its own, or the shipped one), or None when
    it has no ``dictionary`` step."""
    if "dictionary" not in (spec.get("steps") or []):
        return None
    return Path(spec["dictionary"]) if spec.get("dictionary") else DEFAULT_DICTIONARY


def dictionary_files(spec: dict) -> list[str]:
    """The dictionary file as a list of paths (empty without the step): a workflow input, so
    editing the file reruns what depends on it."""
    path = dictionary_path(spec)
    return [] if path is None else [str(path)]


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


def _fold(text: str) -> str:
    """How the dictionary compares text: as the ``unicode`` step, NFKC and case folding."""
    return unicodedata.normalize("NFKC", text).casefold()


def _is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end): runs of letters, digits and combining marks, and every other
    non-space character on its own ("w/o" -> "w", "/", "o"; "usb-c" -> "usb", "-", "c")."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        j = i + 1
        if _is_word_char(text[i]):
            while j < n and _is_word_char(text[j]):
                j += 1
        out.append((text[i:j], i, j))
        i = j
    return out


def _key(text: str) -> tuple[str, ...]:
    return tuple(t for t, _, _ in _tokens(_fold(text)))


class Dictionary:
    """A from -> to mapping over token sequences, matched longest first, whole tokens only.

    Tokens are those of :func:`_tokens` after NFKC and case folding, on both sides: "TV",
    "ｔｖ" and "tv" match the entry "tv", "w/" matches "w/" and "w /", and "tv" does not match
    inside "stv" or "tvs". Scanning left to right, the longest entry starting at a token wins
    ("usb c" before "usb"); matched tokens are not matched again. A target that is itself an
    entry is followed to its end (a -> b, b -> c: a -> c), so a cycle is an error. The
    rewritten part of the query is case-folded, the rest is left as it was.
    """

    def __init__(self, entries: dict[tuple[str, ...], str], name: str = "dictionary"):
        self.entries = dict(entries)
        self.name = name
        self.longest = max(map(len, self.entries), default=0)

    @classmethod
    def load(cls, path: str | Path) -> "Dictionary":
        """Read a TSV (``from<TAB>to`` a line; ``#`` comments and blank lines skipped) or, for
        ``.yaml``/``.yml``, a YAML mapping ``from: to``. ShopbenchError naming the file and
        line: missing or unreadable file, an entry without a source or target, the same source
        twice, a cycle."""
        raw = _read_bytes(path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise ShopbenchError(f"{path} line {line}: not UTF-8 text") from None
        if Path(path).suffix.lower() in (".yaml", ".yml"):
            rows = _yaml_rows(path, text)
        else:
            rows = _tsv_rows(path, text)
        return cls(_resolve(path, rows), name=str(path))

    def apply(self, text: str, mode: str = "replace") -> tuple[str, list[str]]:
        """The text with its entries rewritten (``append``: kept, the expansion after them),
        and the changes, e.g. ``["tv->television"]``."""
        chunks = text.split()
        folded = [_fold(c) for c in chunks]
        joined = " ".join(folded)
        starts = []
        pos = 0
        for chunk in folded:
            starts.append(pos)
            pos += len(chunk) + 1
        tokens = _tokens(joined)
        matches = []  # (start, end, replacement) in joined
        i = 0
        while i < len(tokens):
            for length in range(min(self.longest, len(tokens) - i), 0, -1):
                target = self.entries.get(tuple(t for t, _, _ in tokens[i:i + length]))
                if target is not None:
                    start, end = tokens[i][1], tokens[i + length - 1][2]
                    new = target if mode == "replace" else f"{joined[start:end]} {target}"
                    matches.append((start, end, new))
                    i += length
                    break
            else:
                i += 1
        if not matches:
            return text, []
        # groups of chunks touched by matches (a match can span chunks: "usb c")
        chunk_of = lambda p: bisect.bisect_right(starts, p) - 1  # noqa: E731
        groups: list[list] = []
        for start, end, new in matches:
            first, last = chunk_of(start), chunk_of(end - 1)
            if groups and first <= groups[-1][1]:
                groups[-1][1] = last
                groups[-1][2].append((start, end, new))
            else:
                groups.append([first, last, [(start, end, new)]])
        out, changes, k = [], [], 0
        for first, last, group in groups:
            out.extend(chunks[k:first])
            lo, hi = starts[first], starts[last] + len(folded[last])
            pieces, at = [], lo
            for start, end, new in group:
                before, after = joined[at:start], ""
                if start > lo and _is_word_char(joined[start - 1]):
                    before += " "
                if end < hi and _is_word_char(joined[end]):
                    after = " "
                pieces += [before, new, after]
                changes.append(f"{joined[start:end]}->{new}")
                at = end
            pieces.append(joined[at:hi])
            out.append("".join(pieces))
            k = last + 1
        out.extend(chunks[k:])
        return " ".join(" ".join(out).split()), changes


def _read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ShopbenchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ShopbenchError(f"{path}: is a directory, not a dictionary file") from None
    except OSError as exc:
        raise ShopbenchError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _tsv_rows(path, text: str) -> list[tuple[int, str, str]]:
    rows = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 1:
            raise ShopbenchError(f"{path} line {n}: {line.strip()!r} has no target; write "
                                 f"from<TAB>to")
        if len(parts) > 2:
            raise ShopbenchError(f"{path} line {n}: {len(parts) - 1} tabs; write one entry a "
                                 f"line as from<TAB>to")
        rows.append((n, parts[0], parts[1]))
    return rows


def _yaml_rows(path, text: str) -> list[tuple[int, str, str]]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ShopbenchError(f"{path}{where}: not valid YAML ({problem})") from None
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        raise ShopbenchError(f"{path} line {node.start_mark.line + 1}: expected a mapping of "
                             f"entries, one a line as 'from: to'")
    rows = []
    for key, value in node.value:
        n = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode):
            raise ShopbenchError(f"{path} line {n}: an entry's source must be text")
        if not isinstance(value, yaml.ScalarNode):
            raise ShopbenchError(f"{path} line {n}: {key.value!r}: the target must be one "
                                 f"text, not a list or mapping")
        target = "" if value.tag.endswith(":null") else value.value
        rows.append((n, key.value, target))
    return rows


def _resolve(path, rows: list[tuple[int, str, str]]) -> dict[tuple[str, ...], str]:
    """Checked entries, token key -> target, with chains followed to their end."""
    entries: dict[tuple[str, ...], tuple[int, str, str]] = {}
    for n, source, target in rows:
        if not source.strip():
            raise ShopbenchError(f"{path} line {n}: an entry without a source (nothing before "
                                 f"the tab)")
        if not target.strip():
            raise ShopbenchError(f"{path} line {n}: {source.strip()!r} has no target")
        key = _key(source)
        if key in entries:
            raise ShopbenchError(f"{path} line {n}: {source.strip()!r} is already mapped on "
                                 f"line {entries[key][0]}")
        entries[key] = (n, source.strip(), " ".join(_fold(target).split()))
    resolved = {}
    for key, (_, source, target) in entries.items():
        trail = [key]
        while _key(target) in entries:
            nxt = _key(target)
            if nxt in trail:
                cycle = trail[trail.index(nxt):] + [nxt]
                names = " -> ".join(entries[k][1] for k in cycle)
                lines = [entries[k][0] for k in cycle[:-1]]
                raise ShopbenchError(f"{path} line {min(lines)}: cycle {names} (lines "
                                     f"{', '.join(map(str, lines))}); an entry's target "
                                     f"cannot lead back to it")
            trail.append(nxt)
            target = entries[nxt][2]
        resolved[key] = target
    return resolved


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
            elif step == "dictionary":
                dictionary = Dictionary.load(dictionary_path(self.spec))
                mode = self.spec["dictionary_mode"]
                self._steps.append((step, lambda t, d=dictionary, m=mode: d.apply(t, m)))
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
