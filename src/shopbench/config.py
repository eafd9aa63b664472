"""Validate an experiment config: the JSON schema (with defaults), then cross-references.

Errors name the config key, e.g. ``config approaches[2].runs: approach 'bm52' is not defined``.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path

import jsonschema
import yaml

from .errors import ShopbenchError
from .metrics import metric_names, relevance_threshold

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
#: Approach types: the model kind an approach of the type needs (``model``) and the key naming
#: the runs it is built on (``runs``). A new type is its entry here, its schema branch, its step
#: (shopbench.steps) and its rule (workflow/rules/retrieve.smk); see docs/architecture.md.
APPROACH_TYPES = {
    "dense": {"model": "bi-encoder"},
    "bm25": {},
    "fusion": {"runs": "runs"},
    "rerank": {"model": "cross-encoder", "runs": "run"},
    "late-rerank": {"model": "late-interaction", "runs": "run"},
    "late-interaction": {"model": "late-interaction"},
}
#: Plain-language meaning of the schema's patterns, for error messages.
PATTERN_HINTS = {
    "^[A-Za-z0-9][A-Za-z0-9._-]*$": "use letters, digits, '.', '_' and '-' only, starting with "
                                    "a letter or digit",
    "^[0-9a-f]{64}$": "expected a sha256: 64 lowercase hexadecimal digits",
}
SINGULAR = {"models": "model", "approaches": "approach",
            "query_normalizations": "query normalization"}
#: Config values that become Snakemake file paths or rule parameters, where braces would be
#: read as wildcards.
DATA_STRINGS = ("examples", "products", "examples_url", "products_url")


def _key(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _fill_defaults(instance, schema):
    """Insert schema defaults (properties, and allOf if/then branches that apply)."""
    if not isinstance(instance, dict) or not isinstance(schema, dict):
        if isinstance(instance, list) and isinstance(schema, dict) and "items" in schema:
            for item in instance:
                _fill_defaults(item, schema["items"])
        return
    for key, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance and isinstance(sub, dict):
            _fill_defaults(instance[key], sub)
    for branch in schema.get("allOf", []):
        if "if" in branch and jsonschema.Draft202012Validator(branch["if"]).is_valid(instance):
            _fill_defaults(instance, branch.get("then", {}))


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def _schema_errors(config: dict, schema: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), e.message))
    if not errors:
        return
    err = max(errors, key=lambda e: len(e.absolute_path))
    leaf = jsonschema.exceptions.best_match([err])
    path = list(leaf.absolute_path)
    message = leaf.message
    if leaf.validator == "additionalProperties":
        message = _unknown_keys(leaf.instance, leaf.schema)
    elif leaf.validator == "enum":
        message = f"{leaf.instance!r} is not one of {leaf.validator_value}"
    elif leaf.validator == "pattern":
        hint = PATTERN_HINTS.get(leaf.validator_value, f"must match {leaf.validator_value}")
        message = f"{leaf.instance!r} is not allowed; {hint}"
    elif leaf.validator in ("oneOf", "anyOf"):
        # e.g. n_queries: a whole number or 'all'; say what each alternative wants
        wants = [sub.message for sub in leaf.context] if leaf.context else []
        message = f"{leaf.instance!r} is not valid: " + "; or ".join(dict.fromkeys(wants))
    elif leaf.validator == "required":
        missing = [k for k in leaf.validator_value if k not in leaf.instance]
        path, message = path + missing[:1], "required key is missing"
    raise ShopbenchError(f"config {_key(path)}: {message}")


def _unknown_keys(instance: dict, schema: dict) -> str:
    """'unknown key(s) ...', with the closest known key for each where one is close."""
    known = list(schema.get("properties", {}))
    for branch in schema.get("allOf", []):
        known += list(branch.get("then", {}).get("properties", {}))
    parts = []
    for key in instance:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return "unknown key(s) " + ", ".join(parts)


def check_plain_yaml(paths) -> None:
    """Reject config files that ask Snakemake for YTE templating (``__use_yte__``).

    Snakemake evaluates a YTE config's expressions as Python while loading it, before this
    check can run; shopbench configs are plain data, so such a file stops the workflow.
    """
    for path in paths:
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(doc, dict) and "__use_yte__" in doc:
            raise ShopbenchError(
                f"config file {path}: __use_yte__ turns on YTE templating, which runs the "
                f"file's expressions as Python; shopbench configs are plain YAML data. Remove "
                f"__use_yte__ and write the values out.")


def validate(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """A checked copy of ``config`` with every default filled in; ShopbenchError otherwise."""
    config = copy.deepcopy(dict(config))
    schema = load_schema(schema_path)
    _schema_errors(config, schema)
    _fill_defaults(config, schema)
    _check_output_dir(config["name"])
    _check_data_strings(config["data"])
    _check_references(config)
    from .train import check_config as _check_training  # trained models and folds

    _check_training(config)
    return config


def _check_output_dir(name: str, root: Path = Path("results")) -> None:
    """Outputs go to results/<name>/: reject a name that would lead anywhere else."""
    base = root.resolve()
    if name in (".", "..") or (base / name).resolve().parent != base:
        raise ShopbenchError(f"config name: {name!r} would put outputs outside results/; "
                             f"{PATTERN_HINTS['^[A-Za-z0-9][A-Za-z0-9._-]*$']}")


def _check_data_strings(data: dict) -> None:
    """Paths and URLs are plain text; Snakemake would read braces in them as wildcards."""
    for key in DATA_STRINGS:
        value = data.get(key)
        if isinstance(value, str) and ("{" in value or "}" in value):
            raise ShopbenchError(f"config data.{key}: {value!r} contains '{{' or '}}', which "
                                 f"Snakemake reads as a wildcard; rename the file (or use a URL) "
                                 f"without braces")


def _unique(items: list[dict], what: str) -> dict[str, dict]:
    seen: dict[str, dict] = {}
    for i, item in enumerate(items):
        if item["name"] in seen:
            raise ShopbenchError(f"config {what}[{i}].name: duplicate {SINGULAR[what]} name "
                                 f"{item['name']!r}; names must be unique")
        seen[item["name"]] = item
    return seen


def _check_approach_options(config: dict, models: dict) -> None:
    """Analyzers, fusion weights, query normalizations and model fields."""
    from . import analyzers

    norms = _unique(config["query_normalizations"], "query_normalizations")
    _check_dictionaries(config["query_normalizations"])
    for i, model in enumerate(config["models"]):
        if model.get("fields") and model["kind"] != "bi-encoder":
            raise ShopbenchError(f"config models[{i}].fields: only bi-encoders embed chosen "
                                 f"fields; {model['name']!r} is a {model['kind']}")
        for key in ("query_prefix", "document_prefix"):
            if model["kind"] == "late-interaction" and model.get(key):
                raise ShopbenchError(f"config models[{i}].{key}: a late-interaction model "
                                     f"uses its checkpoint's own markers (e.g. [Q] / [D], "
                                     f"[unused0] / [unused1]); remove {key}")
        if model.get("stand_in") and model["kind"] != "late-interaction":
            raise ShopbenchError(f"config models[{i}].stand_in: only late-interaction models "
                                 f"take a stand-in; {model['name']!r} is a {model['kind']}")
    for i, model in enumerate(config["models"]):
        if model.get("index") == "lucene_hnsw":
            _check_lucene(f"config models[{i}].index ({model['name']!r})")
    for i, appr in enumerate(config["approaches"]):
        if appr["type"] == "bm25":
            try:
                appr["analyzer"] = analyzers.spec(appr["analyzer"])
            except ShopbenchError as exc:
                raise ShopbenchError(f"config approaches[{i}].analyzer: {exc}") from None
            if appr["backend"] == "lucene" or appr["analyzer"]["name"] == "lucene":
                _check_lucene(f"config approaches[{i}] ({appr['name']!r})")
            if appr["backend"] == "lucene":
                from .backends.lucene import _unsupported

                try:
                    _unsupported(appr["fields"], appr["pad_zero_scores"], appr["ties"])
                except ShopbenchError as exc:
                    raise ShopbenchError(f"config approaches[{i}]: {exc}") from None
        if appr["type"] == "fusion" and appr["ties"] == "notebook" and appr["method"] != "rrf":
            raise ShopbenchError(f"config approaches[{i}].ties: 'notebook' is the notebook's "
                                 f"RRF order; method {appr['method']!r} has none (use ties: "
                                 f"docid or method: rrf)")
        if appr["type"] == "fusion":
            # size: a number of products per query, or None for the union ("all")
            appr["size"] = {"depth": appr["depth"], "all": None}.get(appr["size"],
                                                                     appr["size"])
        if appr["type"] == "fusion" and appr.get("weights") is not None:
            if len(appr["weights"]) != len(appr["runs"]):
                raise ShopbenchError(
                    f"config approaches[{i}].weights: {len(appr['weights'])} weight(s) for "
                    f"{len(appr['runs'])} runs {appr['runs']}; give one weight per run, in "
                    f"the order of runs")
            if not any(w > 0 for w in appr["weights"]):
                raise ShopbenchError(f"config approaches[{i}].weights: at least one weight "
                                     f"must be positive")
        name = appr.get("query_normalization")
        if name is not None and name not in norms:
            raise ShopbenchError(f"config approaches[{i}].query_normalization: {name!r} is "
                                 f"not defined under query_normalizations")
        if name is not None and appr["type"] == "bm25":
            _check_word_forms(i, norms[name], appr["analyzer"])


def _check_lucene(where: str) -> None:
    """The Lucene engine is installed and its Java is new enough (shopbench.lucene)."""
    from . import lucene

    lucene.check_installed(where)
    try:
        lucene.check_java()
    except ShopbenchError as exc:
        raise ShopbenchError(f"{where}: {exc}") from None


#: Snowball analyzers: they stem product and query words alike, in their language.
STEMMING_ANALYZERS = ("english", "spanish")


def _check_word_forms(i: int, norm: dict, analyzer: dict) -> None:
    """A BM25 query normalization that changes word forms must meet products analyzed the
    same way. A ``stem`` step needs the analyzer of its language (Snowball stems are mostly no
    words: "cuero" -> "cuer" matches no product word an unstemmed index holds); ``stem`` or
    ``plurals`` in one language against a stemming analyzer of another stems twice, in two
    languages. ``plurals`` against an analyzer that does not stem stays allowed: a singular is
    a word the products hold (one-sided by design: "shoes" -> "shoe" meets products saying
    "shoe", not "shoes")."""
    from . import analyzers

    steps = [s for s in norm["steps"] if s in ("stem", "plurals")]
    if not steps:
        return
    lang = norm.get("language", "english")
    label = analyzers.describe(analyzer)
    what = {"stem": f"stems the queries ({lang} Snowball)",
            "plurals": f"folds the queries' plurals ({lang})"}
    does = " and ".join(what[s] for s in dict.fromkeys(steps))
    key = f"config approaches[{i}].query_normalization: {norm['name']!r}"
    stems_in = analyzer["name"] if analyzer["name"] in STEMMING_ANALYZERS else None
    if stems_in is not None and stems_in != lang:
        raise ShopbenchError(
            f"{key} {does}, but the approach's analyzer {label} stems the products in "
            f"{stems_in}: query and product words would be stemmed in different languages; "
            f"use analyzer: {lang}, or language: {stems_in} in {norm['name']!r}")
    if "stem" in steps and stems_in is None:
        raise ShopbenchError(
            f"{key} {does}, but the approach's analyzer {label} does not stem the products, "
            f"so stemmed query words miss them (\"cuer\" against \"cuero\"); use analyzer: "
            f"{lang} (it stems products and queries alike), or remove 'stem' from the steps "
            f"of {norm['name']!r}")


def _check_dictionaries(norms: list[dict]) -> None:
    """A dictionary option needs the dictionary step; its file is read and checked now, so a
    bad file stops the run before any job."""
    from . import normalize

    for i, norm in enumerate(norms):
        if "dictionary" not in norm["steps"]:
            for key, unset in (("dictionary", None), ("dictionary_mode", "replace")):
                if norm.get(key, unset) != unset:
                    raise ShopbenchError(
                        f"config query_normalizations[{i}].{key}: set, but steps "
                        f"{norm['steps']} has no dictionary step; add dictionary to steps or "
                        f"remove {key}")
            continue
        path = normalize.dictionary_path(norm)
        try:
            normalize.Dictionary.load(path)
        except ShopbenchError as exc:
            raise ShopbenchError(f"config query_normalizations[{i}].dictionary: {exc}") from None


def _check_references(config: dict) -> None:
    models = _unique(config["models"], "models")
    approaches = _unique(config["approaches"], "approaches")
    _check_approach_options(config, models)
    for i, appr in enumerate(config["approaches"]):
        if "model" in appr:
            model = models.get(appr["model"])
            if model is None:
                raise ShopbenchError(f"config approaches[{i}].model: model {appr['model']!r} "
                                     f"is not defined under models")
            want = APPROACH_TYPES[appr["type"]]["model"]
            if model["kind"] != want:
                raise ShopbenchError(
                    f"config approaches[{i}].model: {appr['type']} approach {appr['name']!r} "
                    f"needs a {want} but model {model['name']!r} is a {model['kind']}")
        for ref in dependencies(appr):
            if ref not in approaches:
                key = APPROACH_TYPES[appr["type"]]["runs"]
                raise ShopbenchError(f"config approaches[{i}].{key}: approach {ref!r} is not "
                                     f"defined")
    _check_cycles(approaches)
    baseline = config["evaluation"]["baseline"]
    if baseline is not None and baseline not in approaches:
        raise ShopbenchError(f"config evaluation.baseline: approach {baseline!r} is not defined")
    try:
        relevance_threshold(config["evaluation"]["relevant_labels"])
    except ShopbenchError as exc:
        raise ShopbenchError(f"config {exc}") from None
    names = metric_names(config["evaluation"]["hits_k"])
    if config["report"]["plot_metric"] not in names:
        raise ShopbenchError(f"config report.plot_metric: {config['report']['plot_metric']!r} "
                             f"is not a metric; use one of {names}")


def dependencies(approach: dict) -> list[str]:
    """Names of the runs an approach is built on."""
    key = APPROACH_TYPES[approach["type"]].get("runs")
    if key is None:
        return []
    value = approach[key]
    return [value] if isinstance(value, str) else list(value)


def critical_path(config: dict) -> dict[str, set[str]]:
    """The approaches and models a rerank approach depends on (itself included, transitively):
    ``{"approaches": names, "models": names}``. Rerankers are the longest chains of a run."""
    approaches = {a["name"]: a for a in config["approaches"]}
    names: set[str] = set()

    def visit(name: str) -> None:
        if name in names or name not in approaches:
            return
        names.add(name)
        for dep in dependencies(approaches[name]):
            visit(dep)

    for name, approach in approaches.items():
        if approach["type"] == "rerank":
            visit(name)
    models = {approaches[n]["model"] for n in names if "model" in approaches[n]}
    return {"approaches": names, "models": models}


def _check_cycles(approaches: dict[str, dict]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = trail[trail.index(name):] + [name]
            raise ShopbenchError("config approaches: cycle between approaches "
                                 + " -> ".join(cycle))
        state[name] = 1
        for dep in dependencies(approaches[name]):
            visit(dep, trail + [name])
        state[name] = 2

    for name in approaches:
        visit(name, [])


def baseline_of(config: dict) -> str:
    return config["evaluation"]["baseline"] or config["approaches"][0]["name"]
