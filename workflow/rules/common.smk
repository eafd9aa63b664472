# Config validation (JSON schema with defaults, then cross-references) and helpers.
import re
import sys
from pathlib import Path

# The shopbench package is importable without installation (scripts do the same).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from shopbench.config import validate as _validate_config, dependencies, baseline_of
from shopbench.config import critical_path as _critical_path
from shopbench.config import check_plain_yaml as _check_plain_yaml
from shopbench.data import check_files as _check_data_files
from shopbench.errors import ShopbenchError
from shopbench.models import check_models as _check_models

try:
    _check_plain_yaml(workflow.config_settings.configfiles)
    config = _validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
    _check_models(config["models"])  # a bi-encoder configured as a cross-encoder, or the reverse
    if not config["data"]["download"]:  # missing files and columns, before any job runs
        _check_data_files(config["data"]["examples"], config["data"]["products"],
                          config["text"]["fields"])
except ShopbenchError as _exc:
    raise WorkflowError(str(_exc)) from None

R = f"results/{config['name']}"
SEEDS = config["seeds"]
MODELS = {m["name"]: m for m in config["models"]}
APPROACHES = {a["name"]: a for a in config["approaches"]}
ORDER = list(APPROACHES)
BASELINE = baseline_of(config)
SAMPLING = config["sampling"]
QNORMS = {q["name"]: q for q in config["query_normalizations"]}
# The models and approaches feeding a reranker: their jobs run first (Snakemake priority), so
# the longest chain (encode -> index -> dense -> rerank) starts as early as it can.
CRITICAL = _critical_path(config)


def critical_priority(models=(), approaches=()):
    """Scheduling priority of a job: 10 on the critical path (see CRITICAL), else 0."""
    on_path = set(models) & CRITICAL["models"] or set(approaches) & CRITICAL["approaches"]
    return 10 if on_path else 0
# catalogue protocol: one corpus, its embeddings and indexes per experiment (catalogue.smk);
# the per-seed rules below then serve only the queries of each seed.
CATALOGUE = config["protocol"] == "catalogue"
CORPUS = f"{R}/catalogue/corpus.parquet" if CATALOGUE else f"{R}/seed{{seed}}/corpus.parquet"


wildcard_constraints:
    seed=r"\d+",
    model="|".join(map(re.escape, MODELS)),
    approach="|".join(map(re.escape, APPROACHES)),


def names_of(kind, per_seed_corpus=False):
    """Regex matching the names of the approaches of one type (matches nothing if none, or
    with ``per_seed_corpus`` in the catalogue protocol, whose rules are in catalogue.smk)."""
    names = [n for n, a in APPROACHES.items() if a["type"] == kind]
    if per_seed_corpus and CATALOGUE:
        names = []
    return "|".join(map(re.escape, names)) if names else "(?!)"


def models_of(per_seed_corpus=False):
    """Regex matching the model names (nothing with ``per_seed_corpus`` in the catalogue
    protocol, whose encode rules are in catalogue.smk)."""
    names = [] if per_seed_corpus and CATALOGUE else list(MODELS)
    return "|".join(map(re.escape, names)) if names else "(?!)"


def model_of(wildcards):
    return MODELS[APPROACHES[wildcards.approach]["model"]]


def seed_dir(path):
    return f"{R}/seed{{seed}}/{path}"


def qnorm_of(wildcards):
    """The approach's query normalization name, or None."""
    return APPROACHES[wildcards.approach].get("query_normalization")


def normalized_queries(wildcards):
    """The approach's normalized queries file (a list: empty without a normalization)."""
    name = qnorm_of(wildcards)
    return [f"{R}/seed{wildcards.seed}/queries/{name}.tsv"] if name else []


def fields_input(uses_fields):
    """fields.parquet of the seed when ``uses_fields(wildcards)``, else nothing."""
    return lambda w: [f"{R}/seed{w.seed}/fields.parquet"] if uses_fields(w) else []


def bm25_analysis_files():
    """Every BM25 approach's analyzer report (queries and products left without a token)."""
    names = [n for n, a in APPROACHES.items() if a["type"] == "bm25"]
    return expand(f"{R}/seed{{seed}}/analysis/{{approach}}.json", seed=SEEDS, approach=names)


def final_outputs():
    return [
        f"{R}/metrics.csv",
        f"{R}/summary.csv",
        f"{R}/significance.csv",
        f"{R}/worst_queries.csv",
        f"{R}/latency.csv",
        f"{R}/tables/results.md",
        f"{R}/tables/results.tex",
        f"{R}/plots/metrics.png",
        f"{R}/plots/per_query_heatmap.png",
        f"{R}/plots/quality_latency.png",
        f"{R}/provenance.json",
    ]


def hnsw_setting(key):
    """A model's HNSW build setting; None for a flat index (so changing it rebuilds nothing)."""
    return lambda w: MODELS[w.model][key] if MODELS[w.model]["index"] == "hnsw" else None


def bm25s_names():
    """Regex of the bm25 approaches with the bm25s backend (their index is persisted)."""
    names = [n for n, a in APPROACHES.items() if a["type"] == "bm25" and a["backend"] == "bm25s"]
    return "|".join(map(re.escape, names)) if names else "(?!)"
