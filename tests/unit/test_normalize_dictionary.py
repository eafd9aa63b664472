"""The ``dictionary`` query normalization step: token-sequence rewriting from a mapping file,
checked against hand-written expectations; every bad dictionary file stops config validation
(and the workflow, at parse time) with a message naming the file and line; editing the file
reruns the queries' normalization."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from shopbench import normalize as N
from shopbench.config import validate
from shopbench.errors import ShopbenchError
from shopbench.steps.corpus import read_normalized
from test_errors_config import base_config, dry_run
from workflow_runner import REPO, demo_config, snakemake, write_config

ENTRIES = ("tv\ttelevision\n"
           "usb\tuniversal serial bus\n"
           "usb c\tusb type c\n"
           "w/\twith\n"
           "w/o\twithout\n"
           "ss\tstainless steel\n"
           "oz\tounce\n"
           "straße\tstreet\n"
           "café\tcoffee\n"
           "hi-fi\thigh fidelity\n")


def _file(tmp_path: Path, text: str, name: str = "dict.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def words(tmp_path) -> N.Dictionary:
    return N.Dictionary.load(_file(tmp_path, "# a comment line\n\n" + ENTRIES))


# -- matching -----------------------------------------------------------------------------------
@pytest.mark.parametrize("query, expected, changes", [
    ("tv", "television", ["tv->television"]),
    ("samsung tv stand", "samsung television stand", ["tv->television"]),
    ("Samsung TV, 55 inch", "Samsung television, 55 inch", ["tv->television"]),  # rest as it was
    ("(Tv)", "(television)", ["tv->television"]),
    ("ss bottle 32 oz", "stainless steel bottle 32 ounce", ["ss->stainless steel",
                                                            "oz->ounce"]),
])
def test_single_tokens(words, query, expected, changes):
    assert words.apply(query) == (expected, changes)


@pytest.mark.parametrize("query, expected, changes", [
    ("usb c cable", "usb type c cable", ["usb c->usb type c"]),  # longest first
    ("usb cable", "universal serial bus cable", ["usb->universal serial bus"]),
    ("USB   C hub", "usb type c hub", ["usb c->usb type c"]),  # across a run of spaces
    ("mug w/o lid", "mug without lid", ["w/o->without"]),  # "w/o" before "w/"
    ("mug w/ lid", "mug with lid", ["w/->with"]),
    ("mug w / lid", "mug with lid", ["w /->with"]),  # the same tokens as "w/"
    ("mug w/lid", "mug with lid", ["w/->with"]),  # the expansion is not glued to "lid"
    ("hi-fi speaker", "high fidelity speaker", ["hi-fi->high fidelity"]),
])
def test_multi_token_entries(words, query, expected, changes):
    assert words.apply(query) == (expected, changes)


@pytest.mark.parametrize("query", ["stv", "tvs", "4ktv", "oss", "usbc", "aw/ x", "sstv",
                                   "hi fi", "cafés", "ssd"])
def test_no_partial_word_matches(words, query):
    assert words.apply(query) == (query, [])


def test_punctuation_is_a_token_of_its_own(words):
    """A hyphenated form is an entry of its own ("hi-fi" is not "hi fi"); a word entry matches
    a whole word inside it, the hyphen kept."""
    assert words.apply("tv-stand") == ("television-stand", ["tv->television"])
    assert words.apply("USB-C") == ("universal serial bus-c", ["usb->universal serial bus"])
    with_hyphen = N.Dictionary.load(_file(Path(words.name).parent, ENTRIES + "usb-c\tusb type c\n",
                                          "hyphen.tsv"))
    assert with_hyphen.apply("USB-C") == ("usb type c", ["usb-c->usb type c"])


@pytest.mark.parametrize("query, expected, changes", [
    ("ＴＶ stand", "television stand", ["tv->television"]),  # fullwidth: NFKC
    ("ＵＳＢ Ｃ", "usb type c", ["usb c->usb type c"]),
    ("cafe\u0301 mug", "coffee mug", ["café->coffee"]),  # decomposed accent: NFKC composes it
    ("STRASSE sign", "street sign", ["strasse->street"]),  # case folding: ß -> ss on both sides
    ("HI-\ufb01 amp", "high fidelity amp", ["hi-fi->high fidelity"]),  # the ligature ﬁ
])
def test_unicode_forms(words, query, expected, changes):
    assert words.apply(query) == (expected, changes)


def test_append_keeps_the_matched_tokens(words):
    assert words.apply("ss bottle w/o lid", "append") == (
        "ss stainless steel bottle w/o without lid",
        ["ss->ss stainless steel", "w/o->w/o without"])
    assert words.apply("USB C hub", "append") == ("usb c usb type c hub",
                                                  ["usb c->usb c usb type c"])
    assert words.apply("mug w/lid", "append") == ("mug w/ with lid", ["w/->w/ with"])
    assert words.apply("plain mug", "append") == ("plain mug", [])


def test_chains_are_followed_and_expansions_not_rescanned(tmp_path):
    chain = N.Dictionary.load(_file(tmp_path, "a\tb\nb\tc\ntv\tsmart tv\n"))
    assert chain.apply("a b") == ("c c", ["a->c", "b->c"])
    # the target contains the entry: rewritten once, not again
    assert chain.apply("tv") == ("smart tv", ["tv->smart tv"])
    assert chain.apply("tv tv", "append") == ("tv smart tv tv smart tv",
                                              ["tv->tv smart tv", "tv->tv smart tv"])


def test_yaml_dictionary_matches_the_tsv_one(tmp_path, words):
    yaml_text = "".join(f'"{a}": "{b}"\n' for a, b in
                        (line.split("\t") for line in ENTRIES.strip().split("\n")))
    from_yaml = N.Dictionary.load(_file(tmp_path, "# entries\n" + yaml_text, "dict.yaml"))
    assert from_yaml.entries == words.entries
    plain = N.Dictionary.load(_file(tmp_path, "tv: television\n4k: ultra hd\nyes: yes please\n",
                                    "plain.yml"))
    assert plain.apply("4k tv yes") == ("ultra hd television yes please",
                                        ["4k->ultra hd", "tv->television", "yes->yes please"])


# -- the Normalizer: composition with the other steps, changes reported ------------------------
def test_composes_with_other_steps_in_their_order(tmp_path):
    path = str(_file(tmp_path, ENTRIES))
    spec = {"name": "n", "dictionary": path}
    first = N.Normalizer({**spec, "steps": ["unicode", "plurals", "dictionary"]})
    assert first("Samsung  TVs W/ Stand") == (
        "samsung television with stand",
        "unicode: 'Samsung  TVs W/ Stand'->'samsung tvs w/ stand'; plurals: tvs->tv; "
        "dictionary: tv->television, w/->with")
    # dictionary first: "tvs" is no entry, so plurals then folds it to "tv", left as it is
    second = N.Normalizer({**spec, "steps": ["dictionary", "plurals"]})
    assert second("Samsung TVs w/ stands") == ("Samsung TV with stand",
                                               "dictionary: w/->with; plurals: TVs->TV, "
                                               "stands->stand")
    stem = N.Normalizer({**spec, "steps": ["dictionary", "stem"], "dictionary_mode": "append"})
    assert stem("ss bottles") == ("ss stainless steel bottl",
                                  "dictionary: ss->ss stainless steel; stem: bottles->bottl")


def test_normalizer_reports_each_querys_changes(tmp_path):
    norm = N.Normalizer({"name": "n", "steps": ["dictionary"],
                         "dictionary": str(_file(tmp_path, ENTRIES))})
    texts, changes, seconds = norm.run(["usb c tv", "plain mug", "32 OZ"])
    assert texts == ["usb type c television", "plain mug", "32 ounce"]
    assert changes == ["dictionary: usb c->usb type c, tv->television", "", "dictionary: oz->ounce"]
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)


def test_shipped_dictionary(tmp_path):
    text = N.DEFAULT_DICTIONARY.read_text(encoding="utf-8")
    assert text.startswith("# shopbench's default product-search dictionary")
    assert "Not copied from any list" in text
    norm = N.Normalizer({"name": "n", "steps": ["unicode", "dictionary"]})  # dictionary: null
    assert norm("SS Water Bottle 32 oz w/ Straw")[0] == (
        "stainless steel water bottle 32 ounce with straw")
    assert norm("usb-c to usb a cable")[0] == "usb type c to usb type a cable"
    assert norm("ps5 controller xl")[0] == "playstation 5 controller x-large"
    assert norm("4k tv 65 inch")[0] == "ultra hd television 65 inch"
    assert norm("32gb usb stick")[0] == "32gb usb stick"  # units fused to numbers: no token


def test_shipped_dictionary_is_package_data():
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["shopbench"]
    relative = N.DEFAULT_DICTIONARY.relative_to(REPO / "src" / "shopbench").as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data)


def test_dictionary_files_are_the_rules_input(tmp_path):
    assert N.dictionary_files({"steps": ["unicode"]}) == []
    assert N.dictionary_files({"steps": ["dictionary"], "dictionary": None}) == [
        str(N.DEFAULT_DICTIONARY)]
    assert N.dictionary_files({"steps": ["dictionary"], "dictionary": "my.tsv"}) == ["my.tsv"]


# -- bad dictionary files -----------------------------------------------------------------------
def _config_with(dictionary, **options) -> dict:
    config = base_config()
    config["query_normalizations"] = [
        {"name": "plain", "steps": ["unicode"]},
        {"name": "dict", "steps": ["unicode", "dictionary"], "dictionary": dictionary,
         **options}]
    config["approaches"][1]["query_normalization"] = "dict"
    return config


def _fails(config, message: str) -> None:
    with pytest.raises(ShopbenchError) as info:
        validate(config)
    assert str(info.value) == message


def test_a_good_dictionary_validates(tmp_path):
    path = str(_file(tmp_path, ENTRIES))
    config = validate(_config_with(path, dictionary_mode="append"))
    assert config["query_normalizations"][1]["dictionary"] == path
    assert config["query_normalizations"][0]["dictionary"] is None  # the default
    assert config["query_normalizations"][0]["dictionary_mode"] == "replace"
    assert validate(_config_with(None))["query_normalizations"][1]["dictionary"] is None


def test_missing_file(tmp_path):
    path = tmp_path / "nope.tsv"
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path}: no such file")


def test_unreadable_file_a_directory(tmp_path):
    _fails(_config_with(str(tmp_path)),
           f"config query_normalizations[1].dictionary: {tmp_path}: is a directory, not a "
           f"dictionary file")


def test_unreadable_file_not_utf8(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("tv\ttelevision\ncaf\u00e9\tcoffee\n".encode("latin-1"))
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 2: not UTF-8 text")


def test_line_without_a_target(tmp_path):
    path = _file(tmp_path, "# units\noz\tounce\nqt\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 3: 'qt' has no target; "
           f"write from<TAB>to")


def test_line_with_an_empty_target(tmp_path):
    path = _file(tmp_path, "oz\tounce\nqt\t  \n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 2: 'qt' has no target")


def test_line_without_a_source(tmp_path):
    path = _file(tmp_path, "oz\tounce\n\tquart\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 2: an entry without a "
           f"source (nothing before the tab)")


def test_line_with_two_tabs(tmp_path):
    path = _file(tmp_path, "oz\tounce\tounces\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 1: 2 tabs; write one "
           f"entry a line as from<TAB>to")


def test_same_source_twice(tmp_path):
    path = _file(tmp_path, "tv\ttelevision\nw/\twith\nTV\ttelly\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 3: 'TV' is already "
           f"mapped on line 1")


def test_cycle(tmp_path):
    path = _file(tmp_path, "oz\tounce\ntv\ttelevision\ntelevision\ttv\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 2: cycle tv -> television "
           f"-> tv (lines 2, 3); an entry's target cannot lead back to it")


def test_cycle_reached_through_a_chain_names_the_cycles_lines(tmp_path):
    path = _file(tmp_path, "x\ta\na\tb\nb\tA\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 2: cycle a -> b -> a "
           f"(lines 2, 3); an entry's target cannot lead back to it")


def test_entry_mapped_to_itself(tmp_path):
    path = _file(tmp_path, "oz\tounce\ntv\tTV\n")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} line 2: cycle tv -> tv "
           f"(lines 2); an entry's target cannot lead back to it")


@pytest.mark.parametrize("text, message", [
    ("tv: television\nqt:\n", "line 2: 'qt' has no target"),
    ("tv: television\nqt: ~\n", "line 2: 'qt' has no target"),
    ("tv: [television, telly]\n", "line 1: 'tv': the target must be one text, not a list or "
                                  "mapping"),
    ("- tv\n- television\n", "line 1: expected a mapping of entries, one a line as 'from: to'"),
    ("tv: television\nqt: \"quart\n", "line 3: not valid YAML (found unexpected end of "
                                      "stream)"),
    ("tv: television\nTV: telly\n", "line 2: 'TV' is already mapped on line 1"),
])
def test_bad_yaml_dictionary(tmp_path, text, message):
    path = _file(tmp_path, text, "dict.yaml")
    _fails(_config_with(str(path)),
           f"config query_normalizations[1].dictionary: {path} {message}")


@pytest.mark.parametrize("key, value", [("dictionary", "my.tsv"),
                                        ("dictionary_mode", "append")])
def test_dictionary_options_need_the_step(key, value):
    config = base_config()
    config["query_normalizations"] = [{"name": "n", "steps": ["unicode"], key: value}]
    _fails(config, f"config query_normalizations[0].{key}: set, but steps ['unicode'] has no "
                   f"dictionary step; add dictionary to steps or remove {key}")


def test_unknown_dictionary_mode():
    _fails(_config_with(None, dictionary_mode="expand"),
           "config query_normalizations[1].dictionary_mode: 'expand' is not one of "
           "['replace', 'append']")


def test_snakemake_stops_at_parse_time_on_a_bad_dictionary(tmp_path):
    path = _file(tmp_path, "oz\tounce\nqt\n")
    proc = dry_run(tmp_path, _config_with(str(path)))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert out.startswith("ERROR shopbench: config ") and "Traceback" not in out
    assert (f"config query_normalizations[1].dictionary: {path} line 2: 'qt' has no target"
            in out), out[-3000:]
    assert not (tmp_path / "results").exists()


# -- the workflow: the dictionary is an input of normalize_queries -----------------------------
@pytest.mark.slow
def test_editing_the_dictionary_reruns_the_normalization(tiny_models, tmp_path):
    dictionary = tmp_path / "dict.tsv"
    config = demo_config("dict", tiny_models, approaches=[
        {"name": "bm25", "type": "bm25"},
        {"name": "bm25-dict", "type": "bm25", "query_normalization": "dict"}])
    config["query_normalizations"] = [{"name": "dict", "steps": ["unicode", "dictionary"],
                                       "dictionary": str(dictionary)}]
    dictionary.write_text("zzzplaceholder\tx\n", encoding="utf-8")
    configfile = write_config(tmp_path, config)
    snakemake(tmp_path, configfile, "--cores", "1", "results/dict/seed1/queries.tsv")
    queries = pd.read_csv(tmp_path / "results/dict/seed1/queries.tsv", sep="\t")["query"]
    words = [w for w in dict.fromkeys(" ".join(queries.str.casefold()).split()) if w.isalpha()]
    first = words[0]
    second = next(w for w in words if w not in queries.iloc[0].casefold().split())

    def expect(entries: dict[str, str]) -> list[str]:
        return ["dictionary: " + ", ".join(f"{w}->{entries[w]}" for w in q.casefold().split()
                                           if w in entries) if any(w in entries for w in
                                                                   q.casefold().split()) else ""
                for q in queries]

    target = "results/dict/seed1/queries/dict.tsv"
    dictionary.write_text(f"{first}\tzzzone\n", encoding="utf-8")
    snakemake(tmp_path, configfile, "--cores", "1", target)
    before = read_normalized(str(tmp_path / target))
    assert before["changes"].tolist() == expect({first: "zzzone"})
    assert "zzzone" in before["query"].iloc[0].split()
    assert "normalize_queries" not in snakemake(tmp_path, configfile, "-n", "--cores", "1",
                                                target).stdout
    # a second entry: the step reruns and rewrites that word too
    dictionary.write_text(f"{first}\tzzzone\n{second}\tzzztwo\n", encoding="utf-8")
    assert "rule normalize_queries" in snakemake(tmp_path, configfile, "-n", "--cores", "1",
                                                 target).stdout
    snakemake(tmp_path, configfile, "--cores", "1", target)
    after = read_normalized(str(tmp_path / target))
    assert after["changes"].tolist() == expect({first: "zzzone", second: "zzztwo"})
    assert after["changes"].tolist() != before["changes"].tolist()
