"""Bad configs are stopped when the workflow is parsed, with a message that names the key.

Each case is checked on ``shopbench.config.validate`` and a few through a real
``snakemake -n --configfile bad.yaml`` (non-zero exit, the message in its output). Config values
are data: nothing in them is evaluated and outputs stay inside results/.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shopbench.config import check_plain_yaml, validate
from shopbench.errors import ShopbenchError
from shopbench.models import check_models

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"


def base_config() -> dict:
    """A valid config (demo data, a bi-encoder, every approach type but rerank)."""
    return {
        "name": "errors",
        "data": {"examples": str(DEMO / "shopping_queries_dataset_examples.parquet"),
                 "products": str(DEMO / "shopping_queries_dataset_products.parquet")},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": 10, "n_rows": 100},
        "models": [{"name": "mini", "kind": "bi-encoder", "path": "some/bi-encoder"},
                   {"name": "ce", "kind": "cross-encoder", "path": "some/cross-encoder"}],
        "approaches": [
            {"name": "dense", "type": "dense", "model": "mini"},
            {"name": "bm25", "type": "bm25"},
            {"name": "hybrid", "type": "fusion", "runs": ["dense", "bm25"]},
        ],
    }


def _set(key: str, value):
    """A change that puts ``value`` at a dotted key such as ``approaches.1.k`` (or deletes it)."""
    def change(config: dict) -> None:
        node, parts = config, key.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = int(parts[-1]) if isinstance(node, list) else parts[-1]
        if value is DELETE:
            del node[last]
        else:
            node[last] = copy.deepcopy(value)
    return change


def _add(*approaches: dict):
    return lambda config: config["approaches"].extend(copy.deepcopy(list(approaches)))


DELETE = object()
NORMS = {"es-stem": {"name": "es-stem", "steps": ["unicode", "stem"], "language": "spanish"},
         "es-plurals": {"name": "es-plurals", "steps": ["unicode", "plurals"],
                        "language": "spanish"}}

# (id, change to the valid base config, regex the message must match)
CASES = [
    ("unknown-top-key", _set("seed", 3),
     r"config \(top level\): unknown key\(s\) 'seed' \(did you mean 'seeds'\?\)"),
    ("unknown-nested-key", _set("sampling.n_query", 5),
     r"config sampling: unknown key\(s\) 'n_query' \(did you mean 'n_queries'\?\)"),
    ("unknown-approach-key", _set("approaches.1.kk", 5), r"config approaches\[1\]: unknown key"),
    ("wrong-type-str", _set("sampling.n_queries", "50"),
     r"config sampling\.n_queries: '50' is not valid: '50' is not of type 'integer'; or 'all'"),
    ("wrong-type-float", _set("sampling.n_rows", 2.5),
     r"config sampling\.n_rows: 2\.5 is not of type"),
    ("wrong-type-list", _set("seeds", 42), r"config seeds: 42 is not of type 'array'"),
    ("unknown-approach-type", _set("approaches.1.type", "splade"),
     r"config approaches\[1\]\.type: 'splade' is not one of \['dense', 'bm25', 'fusion', "
     r"'rerank', 'late-rerank', 'late-interaction'\]"),
    ("missing-approach", _set("approaches.2.runs", ["dense", "bm52"]),
     r"config approaches\[2\]\.runs: approach 'bm52' is not defined"),
    ("missing-rerank-run", _add({"name": "rr", "type": "rerank", "model": "ce", "run": "nope"}),
     r"config approaches\[3\]\.run: approach 'nope' is not defined"),
    ("missing-model", _set("approaches.0.model", "nope"),
     r"config approaches\[0\]\.model: model 'nope' is not defined under models"),
    ("wrong-model-kind", _set("approaches.0.model", "ce"),
     r"config approaches\[0\]\.model: dense approach 'dense' needs a bi-encoder but model "
     r"'ce' is a cross-encoder"),
    ("fusion-cycle", _set("approaches.2.runs", ["hybrid", "bm25"]),
     r"config approaches: cycle between approaches hybrid -> hybrid"),
    ("rerank-cycle", _add({"name": "rr", "type": "rerank", "model": "ce", "run": "rr2"},
                          {"name": "rr2", "type": "rerank", "model": "ce", "run": "rr"}),
     r"config approaches: cycle between approaches rr -> rr2 -> rr"),
    ("gains-partial", _set("evaluation", {"gains": {"E": 1.0}}),
     r"config evaluation\.gains\.S: required key is missing"),
    ("n_queries-zero", _set("sampling.n_queries", 0),
     r"config sampling\.n_queries: 0 is less than the minimum of 1"),
    ("n_rows-negative", _set("sampling.n_rows", -5),
     r"config sampling\.n_rows: -5 is less than the minimum of 1"),
    ("k-zero", _set("approaches.1.k", 0), r"config approaches\[1\]\.k: 0 is less than the minimum"),
    ("depth-zero", _set("approaches.2.depth", 0),
     r"config approaches\[2\]\.depth: 0 is less than the minimum"),
    ("empty-labels", _set("sampling.labels", []),
     r"config sampling\.labels: \[\] should be non-empty"),
    ("unknown-label", _set("sampling.labels", ["E", "X"]),
     r"config sampling\.labels\[1\]: 'X' is not one of"),
    ("empty-relevant-labels", _set("evaluation", {"relevant_labels": []}),
     r"config evaluation\.relevant_labels: \[\] should be non-empty"),
    ("unknown-locale", _set("sampling.locale", "fr"),
     r"config sampling\.locale: 'fr' is not one of \['us', 'es', 'jp'\]"),
    ("duplicate-approach", _add({"name": "bm25", "type": "bm25", "k": 10}),
     r"config approaches\[3\]\.name: duplicate approach name 'bm25'"),
    ("duplicate-model", _set("models.1.name", "mini"),
     r"config models\[1\]\.name: duplicate model name 'mini'"),
    ("missing-required", _set("name", DELETE), r"config name: required key is missing"),
    ("name-escapes-results", _set("name", "../x"),
     r"config name: '\.\./x' is not allowed; use letters, digits"),
    ("name-absolute", _set("name", "/tmp/x"), r"config name: '/tmp/x' is not allowed"),
    ("name-nested", _set("name", "a/b"), r"config name: 'a/b' is not allowed"),
    ("braces-in-data-path", _set("data.examples", "data/{config}.parquet"),
     r"config data\.examples: 'data/\{config\}\.parquet' contains '\{' or '\}'"),
    ("bad-sha256", _set("data.examples_sha256", "abc"),
     r"config data\.examples_sha256: 'abc' is not allowed; expected a sha256"),
    ("unknown-analyzer", _set("approaches.1.analyzer", "englsh"),
     r"config approaches\[1\]\.analyzer: unknown analyzer 'englsh'; use one of \['english', "),
    ("analyzer-option", _set("approaches.1.analyzer", {"name": "unicode", "stopwords": True}),
     r"config approaches\[1\]\.analyzer: analyzer 'unicode' has no option\(s\) \['stopwords'\]"),
    ("japanese-method", _set("approaches.1.analyzer", {"name": "japanese", "method": "mecab"}),
     r"config approaches\[1\]\.analyzer: analyzer 'japanese': unknown method 'mecab'"),
    ("pad-not-bool", _set("approaches.1.pad_zero_scores", "yes"),
     r"config approaches\[1\]\.pad_zero_scores: 'yes' is not of type 'boolean'"),
    ("unknown-field", _set("approaches.1.fields", {"product_titel": 2}),
     r"config approaches\[1\]\.fields: unknown key\(s\) 'product_titel' \(did you mean "
     r"'product_title'\?\)"),
    ("negative-field-weight", _set("approaches.1.fields", {"product_title": -1}),
     r"config approaches\[1\]\.fields\.product_title: -1 is less than the minimum of 0"),
    ("unknown-model-field", _set("models.0.fields", ["title"]),
     r"config models\[0\]\.fields\[0\]: 'title' is not one of \['product_title'"),
    ("fields-on-cross-encoder", _set("models.1.fields", ["product_title"]),
     r"config models\[1\]\.fields: only bi-encoders embed chosen fields; 'ce' is a "
     r"cross-encoder"),
    ("unknown-fusion-method", _set("approaches.2.method", "borda"),
     r"config approaches\[2\]\.method: 'borda' is not one of \['rrf', 'combsum', 'combmnz'\]"),
    ("bad-score-normalization", _set("approaches.2.normalization", "minmax"),
     r"config approaches\[2\]\.normalization: 'minmax' is not one of \['min-max', 'z-score', "
     r"'l2', 'min-max-opensearch'\]"),
    ("bm25-unknown-ties", _set("approaches.1.ties", "stable"),
     r"config approaches\[1\]\.ties: 'stable' is not one of \['docid', 'notebook'\]"),
    ("fusion-unknown-ties", _set("approaches.2.ties", "first"),
     r"config approaches\[2\]\.ties: 'first' is not one of \['docid', 'notebook'\]"),
    ("ties-not-string", _set("approaches.1.ties", True),
     r"config approaches\[1\]\.ties: True is not of type 'string'"),
    ("ties-on-dense", _set("approaches.0.ties", "notebook"),
     r"config approaches\[0\]: unknown key\(s\) 'ties'"),
    ("notebook-ties-on-combsum",
     lambda c: (_set("approaches.2.method", "combsum")(c),
                _set("approaches.2.ties", "notebook")(c)),
     r"config approaches\[2\]\.ties: 'notebook' is the notebook's RRF order; method "
     r"'combsum' has none"),
    ("notebook-ties-on-combmnz",
     lambda c: (_set("approaches.2.method", "combmnz")(c),
                _set("approaches.2.ties", "notebook")(c)),
     r"config approaches\[2\]\.ties: 'notebook' is the notebook's RRF order; method "
     r"'combmnz' has none"),
    ("weights-mismatch", _set("approaches.2.weights", [1.0, 2.0, 3.0]),
     r"config approaches\[2\]\.weights: 3 weight\(s\) for 2 runs \['dense', 'bm25'\]; give "
     r"one weight per run"),
    ("weights-all-zero", _set("approaches.2.weights", [0, 0]),
     r"config approaches\[2\]\.weights: at least one weight must be positive"),
    ("fusion-size-zero", _set("approaches.2.size", 0),
     r"config approaches\[2\]\.size: 0 is less than the minimum of 1"),
    ("fusion-size-unknown-word", _set("approaches.2.size", "union"),
     r"config approaches\[2\]\.size: 'union' is not one of \['depth', 'all'\]"),
    ("undefined-query-normalization", _set("approaches.1.query_normalization", "clean"),
     r"config approaches\[1\]\.query_normalization: 'clean' is not defined under "
     r"query_normalizations"),
    ("unknown-normalization-step", _set("query_normalizations", [
        {"name": "clean", "steps": ["unicode", "lowercase"]}]),
     r"config query_normalizations\[0\]\.steps\[1\]: 'lowercase' is not one of \['unicode', "
     r"'spelling', 'plurals', 'stem', 'dictionary'\]"),
    ("unknown-normalization-language", _set("query_normalizations", [
        {"name": "clean", "steps": ["stem"], "language": "german"}]),
     r"config query_normalizations\[0\]\.language: 'german' is not one of \['english', "
     r"'spanish'\]"),
    ("duplicate-normalization", _set("query_normalizations", [
        {"name": "n", "steps": ["stem"]}, {"name": "n", "steps": ["unicode"]}]),
     r"config query_normalizations\[1\]\.name: duplicate query normalization name 'n'"),
    # word forms changed on the query side only (esci-es's bm25-stem-queries used to)
    ("stemmed-queries-unstemmed-index",
     lambda c: (_set("query_normalizations", [NORMS["es-stem"]])(c),
                _set("approaches.1.analyzer", {"name": "unicode", "fold_accents": True})(c),
                _set("approaches.1.query_normalization", "es-stem")(c)),
     r"config approaches\[1\]\.query_normalization: 'es-stem' stems the queries \(spanish "
     r"Snowball\), but the approach's analyzer unicode\(fold_accents=True\) does not stem the "
     r"products, so stemmed query words miss them .*; use analyzer: spanish \(it stems products "
     r"and queries alike\), or remove 'stem' from the steps of 'es-stem'"),
    ("stemmed-queries-notebook-index",
     lambda c: (_set("query_normalizations", [{"name": "s", "steps": ["stem"]}])(c),
                _set("approaches.1.query_normalization", "s")(c)),
     r"config approaches\[1\]\.query_normalization: 's' stems the queries \(english "
     r"Snowball\), but the approach's analyzer notebook does not stem the products"),
    ("stemmed-queries-other-language",
     lambda c: (_set("query_normalizations", [NORMS["es-stem"]])(c),
                _set("approaches.1.analyzer", {"name": "english", "stopwords": True})(c),
                _set("approaches.1.query_normalization", "es-stem")(c)),
     r"config approaches\[1\]\.query_normalization: 'es-stem' stems the queries \(spanish "
     r"Snowball\), but the approach's analyzer english\(stopwords=True, fold_accents=False\) "
     r"stems the products in english: query and product words would be stemmed in different "
     r"languages; use analyzer: spanish, or language: english in 'es-stem'"),
    ("plurals-other-language",
     lambda c: (_set("query_normalizations", [NORMS["es-plurals"]])(c),
                _set("approaches.1.analyzer", "english")(c),
                _set("approaches.1.query_normalization", "es-plurals")(c)),
     r"config approaches\[1\]\.query_normalization: 'es-plurals' folds the queries' plurals "
     r"\(spanish\), but the approach's analyzer english\(.*\) stems the products in english"),
]


def bad_config(case_id: str) -> dict:
    config = base_config()
    next(change for cid, change, _ in CASES if cid == case_id)(config)
    return config


def expected(case_id: str) -> str:
    return next(regex for cid, _, regex in CASES if cid == case_id)


def test_base_config_is_valid():
    config = validate(base_config())
    assert config["sampling"]["on_too_few_queries"] == "error"


@pytest.mark.parametrize("case_id", [c[0] for c in CASES])
def test_validate_names_the_key(case_id):
    with pytest.raises(ShopbenchError, match=expected(case_id)):
        validate(bad_config(case_id))


@pytest.mark.parametrize("where, value", [
    ("models", {"fields": ["product_title"]}),
    ("approaches", {"query_normalization": "n"}),
    ("approaches", {"fields": {"product_title": 2.0}}),
])
def test_catalogue_protocol_accepts_fields_and_query_normalization(where, value):
    """The catalogue protocol searches like the others (the same steps after the corpus), so
    chosen fields and query normalizations validate under it and are kept."""
    config = base_config()
    config["protocol"] = "catalogue"
    config["query_normalizations"] = [{"name": "n", "steps": ["unicode"]}]
    index = 0 if where == "models" else 1
    config[where][index].update(value)
    checked = validate(config)
    assert checked["protocol"] == "catalogue"
    for key, want in value.items():
        assert checked[where][index][key] == want


@pytest.mark.parametrize("norm, analyzer", [
    (NORMS["es-stem"], "spanish"),  # stemmed on both sides
    (NORMS["es-stem"], {"name": "spanish", "stopwords": True, "fold_accents": True}),
    (NORMS["es-plurals"], "spanish"),
    (NORMS["es-plurals"], "unicode"),  # singulars are words: one-sided, allowed
    ({"name": "clean", "steps": ["unicode", "spelling", "plurals"]}, "notebook"),  # next-steps
    ({"name": "u", "steps": ["unicode", "spelling"], "language": "spanish"}, "english"),
])
def test_word_forms_that_meet_the_index_are_valid(norm, analyzer):
    config = base_config()
    config["query_normalizations"] = [norm]
    config["approaches"][1].update(analyzer=analyzer, query_normalization=norm["name"])
    config["approaches"][0]["query_normalization"] = norm["name"]  # dense: no analyzer
    validate(config)


def test_fusion_size_resolves_to_products_per_query():
    config = base_config()
    assert validate(config)["approaches"][2]["size"] == 100  # default: the inputs' depth
    config["approaches"][2]["depth"] = 30
    assert validate(config)["approaches"][2]["size"] == 30
    config["approaches"][2]["size"] = "all"  # the union, the notebook's hybrid
    assert validate(config)["approaches"][2]["size"] is None
    config["approaches"][2]["size"] = 7
    assert validate(config)["approaches"][2]["size"] == 7


def test_validate_does_not_change_its_argument():
    config = base_config()
    before = copy.deepcopy(config)
    validate(config)
    assert config == before


# -- through snakemake --------------------------------------------------------------------------
def dry_run(tmp_path: Path, config: dict | str) -> subprocess.CompletedProcess:
    """``snakemake -n --configfile bad.yaml`` in a scratch directory."""
    path = tmp_path / "bad.yaml"
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config),
                    encoding="utf-8")
    cmd = [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"),
           "--directory", str(tmp_path), "--configfile", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case_id", ["unknown-nested-key", "missing-approach", "fusion-cycle",
                                     "gains-partial", "fusion-unknown-ties",
                                     "notebook-ties-on-combsum", "n_queries-zero", "name-escapes-results"])
def test_snakemake_stops_at_parse_time(tmp_path, case_id):
    proc = dry_run(tmp_path, bad_config(case_id))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(expected(case_id), out), out[-3000:]
    # the message alone, as the last line: no Snakemake frame of internal code around it
    assert re.match(r"ERROR shopbench: " + expected(case_id), out.strip().splitlines()[-1])
    assert "Traceback" not in out and "common.smk" not in out and 'File "' not in out
    assert not (tmp_path / "results").exists()
    assert not (tmp_path.parent / "x").exists()


def test_snakemake_reports_model_kind_at_parse_time(tmp_path, tiny_models):
    config = base_config()
    config["models"][0]["path"] = str(tiny_models["cross"])  # a cross-encoder used as bi
    proc = dry_run(tmp_path, config)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(r"config models\[0\]\.kind: model 'mini' .* is a cross-encoder \(sequence "
                     r"classifier\) but is configured as kind: bi-encoder", out), out[-3000:]


def test_check_models_accepts_matching_kinds_and_hub_ids(tiny_models):
    check_models([{"name": "b", "kind": "bi-encoder", "path": str(tiny_models["bi"])},
                  {"name": "c", "kind": "cross-encoder", "path": str(tiny_models["cross"])},
                  {"name": "h", "kind": "bi-encoder", "path": "not/cached-anywhere"}])


@pytest.mark.parametrize("model, kind, says", [
    ("bi", "cross-encoder", "is a bi-encoder (sentence embedding model) but is configured as "
                            "kind: cross-encoder"),
    ("cross", "bi-encoder", "is a cross-encoder (sequence classifier) but is configured as "
                            "kind: bi-encoder"),
])
def test_check_models_reports_the_wrong_kind(tiny_models, model, kind, says):
    with pytest.raises(ShopbenchError, match=re.escape(says)) as err:
        check_models([{"name": "m", "kind": kind, "path": str(tiny_models[model])}])
    assert str(err.value).startswith("config models[0].kind: model 'm'")


# -- inputs are data, never code ----------------------------------------------------------------
SOURCES = [*sorted((REPO / "src" / "shopbench").rglob("*.py")),  # with steps/, backends/
           *sorted((REPO / "workflow" / "scripts").glob("*.py")),
           *sorted((REPO / "workflow" / "rules").glob("*.smk")), REPO / "Snakefile"]
CODE_FROM_DATA = [
    (r"\beval\(", "eval"), (r"\bexec\(", "exec"), (r"yaml\.load\(", "yaml.load (use safe_load)"),
    (r"yaml\.(unsafe_load|full_load|Loader|UnsafeLoader|FullLoader)", "unsafe YAML loader"),
    (r"\bpickle\.loads?\(", "pickle"), (r"shell=True", "shell=True"),
    (r"os\.system\(", "os.system"),
    (r"^\s*shell:", "a shell: directive (config values would reach a shell)"),
    (r"^\s*run:", "a run: directive"), (r"trust_remote_code\s*=\s*True", "trust_remote_code"),
    (r"allow_pickle\s*=\s*True", "np.load(allow_pickle=True)"),
]


@pytest.mark.parametrize("pattern, what", CODE_FROM_DATA, ids=[w for _, w in CODE_FROM_DATA])
def test_no_code_is_evaluated_from_inputs(pattern, what):
    hits = [f"{path.relative_to(REPO)}:{n}" for path in SOURCES
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(pattern, line)]
    assert not hits, f"{what} in {hits}"


def test_yaml_python_tags_are_rejected(tmp_path):
    text = yaml.safe_dump(base_config()).replace(
        "name: errors", f"name: !!python/object/apply:os.system ['touch {tmp_path}/pwned']")
    proc = dry_run(tmp_path, text)
    assert proc.returncode != 0
    assert not (tmp_path / "pwned").exists()


def test_yte_templating_is_rejected(tmp_path):
    """Snakemake's YTE templating would evaluate the config; shopbench refuses such a file."""
    text = "__use_yte__: true\n" + yaml.safe_dump(base_config())
    proc = dry_run(tmp_path, text)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "__use_yte__ turns on YTE templating" in out, out[-3000:]
    with pytest.raises(ShopbenchError, match="plain YAML data"):
        check_plain_yaml([tmp_path / "bad.yaml"])


TRICKY = ["{config}", "$(touch pwned)", "`touch pwned`; rm -rf x", "{wildcards.seed}",
          "__import__('os').system('touch pwned')"]


@pytest.mark.parametrize("value", TRICKY)
def test_model_strings_are_plain_text(value):
    config = base_config()
    config["models"][0].update(path=value, query_prefix=value, document_prefix=value)
    model = validate(config)["models"][0]
    assert (model["path"], model["query_prefix"], model["document_prefix"]) == (value,) * 3


def test_snakemake_passes_model_strings_through(tmp_path):
    """The workflow plans with them (no wildcard, shell or Python evaluation); the end-to-end
    run in test_interrupt.py checks that a prefix reaches the model unchanged."""
    value = " ".join(TRICKY)
    config = base_config()
    config["models"][0].update(path=value, query_prefix=value, document_prefix=value)
    proc = dry_run(tmp_path, config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (tmp_path / "pwned").exists()


def test_plot_metric_must_be_a_metric():
    config = base_config()
    config["report"] = {"plot_metric": "ndcg@20"}
    with pytest.raises(ShopbenchError, match=r"report\.plot_metric: 'ndcg@20' is not a metric"):
        validate(config)
    config["report"] = {"plot_metric": "hits@5"}
    assert validate(config)["report"]["plot_metric"] == "hits@5"
