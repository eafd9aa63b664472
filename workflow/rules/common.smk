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
from shopbench.interrupt import forward_to_jobs as _forward_interrupts
from shopbench.models import check_models as _check_models
from shopbench.train import check_config_leakage as _check_training_leakage
from shopbench.normalize import dictionary_files

# SIGINT to Snakemake alone (kill -INT, a job scheduler) stops its local jobs too, as Ctrl-C.
_forward_interrupts()

try:
    _check_plain_yaml(workflow.config_settings.configfiles)
    config = _validate_config(
        config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
    )
    _check_models(
        config["models"]
    )  # a bi-encoder configured as a cross-encoder, or the reverse
    if not config["data"]["download"]:  # missing files and columns, before any job runs
        _check_data_files(
            config["data"]["examples"],
            config["data"]["products"],
            config["text"]["fields"],
        )
    _check_training_leakage(config)  # trained models: no evaluated query is trained on
except ShopbenchError as _exc:
    # the message alone, as the last line, without Snakemake's frame of this file
    print(f"ERROR shopbench: {_exc}", file=sys.stderr)
    sys.exit(1)

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
    on_path = (
        set(models) & CRITICAL["models"] or set(approaches) & CRITICAL["approaches"]
    )
    return 10 if on_path else 0


# The protocol decides only where the corpus comes from and its scope: once per experiment
# (catalogue: results/<name>/catalogue/) or once per seed (results/<name>/seed<N>/). Corpus-level
# outputs (corpus, fields, embeddings, indexes) use the {corpus} wildcard; the rest is per seed.
CATALOGUE = config["protocol"] == "catalogue"
LATENCY_QUERIES = config["latency_queries"]
QSETS = {"plain": None, **{f"q-{name}": name for name in QNORMS}}


def regex(names):
    """A wildcard constraint matching exactly ``names`` (nothing when there are none)."""
    return "|".join(map(re.escape, names)) or "(?!)"


wildcard_constraints:
    seed=r"\d+",
    corpus="catalogue" if CATALOGUE else r"seed\d+",
    model=regex(MODELS),
    approach=regex(APPROACHES),
    qset=regex(QSETS),


def seed_dir(path):
    return f"{R}/seed{{seed}}/{path}"


def corpus_dir(path):
    """An output pattern under the corpus folder ({corpus} wildcard)."""
    return f"{R}/{{corpus}}/{path}"


def corpus_of(w, path=""):
    """The corpus folder of a per-seed job (or its ``path`` inside)."""
    folder = f"{R}/catalogue" if CATALOGUE else f"{R}/seed{w.seed}"
    return f"{folder}/{path}" if path else folder


CORPUS = lambda w: corpus_of(w, "corpus.parquet")


def names_of(kind):
    """Regex matching the names of the approaches of one type."""
    return regex([n for n, a in APPROACHES.items() if a["type"] == kind])


def model_of(wildcards):
    return MODELS[APPROACHES[wildcards.approach]["model"]]


def approach_params(*keys):
    """Params of an approach rule: each key of the job's approach."""
    return {key: (lambda w, key=key: APPROACHES[w.approach][key]) for key in keys}


def model_params(*keys, of=lambda w: MODELS[w.model]):
    """Params of a model rule: each key of the job's model (``of``: how to find it); a
    trained model's path is its folder for the job (trained_path, train.smk)."""
    return {
        key: (
            lambda w, key=key: (
                trained_path(of(w), w)
                if key == "path" and of(w).get("train")
                else of(w)[key]
            )
        )
        for key in keys
    }


def model_weights(model, w=None):
    """A model's folder as a rule input when it is one (so a new model reruns what uses it),
    a trained model's the train rule's output; hub ids and packaged models are resolved by
    shopbench.models."""
    if model.get("train"):
        return [trained_path(model, w)]
    return [model["path"]] if Path(model["path"]).is_dir() else []


def normalized_queries(wildcards):
    """The approach's normalized queries file (a list: empty without a normalization)."""
    name = APPROACHES[wildcards.approach].get("query_normalization")
    return [f"{R}/seed{wildcards.seed}/queries/{name}.tsv"] if name else []


def candidates(wildcards):
    """task1-rerank: each query's candidates; the other protocols search the whole corpus."""
    return (
        [corpus_of(wildcards, "candidates.tsv")]
        if config["protocol"] == "task1-rerank"
        else []
    )


# Encodings: a bi-encoder's product and query embeddings are computed once per corpus and
# encoding settings (everything but the name and the index settings), named after the first
# model with those settings and shared by every model that differs only in its index (flat,
# FAISS HNSW, Lucene HNSW over the same vectors). Trained models keep their own.
INDEX_KEYS = ("index", "hnsw_m", "ef_construction", "ef_search")
ENCODING_OF = {}
_encodings = {}
for _name, _m in MODELS.items():
    _key = (
        _name
        if _m.get("train") or _m["kind"] != "bi-encoder"
        else repr(
            sorted((k, v) for k, v in _m.items() if k not in ("name", *INDEX_KEYS))
        )
    )
    ENCODING_OF[_name] = _encodings.setdefault(_key, _name)


def encoding_of(w):
    """The name under which the approach's (``approach`` wildcard) or the model's (``model``
    wildcard) embeddings are stored."""
    if hasattr(w, "approach"):
        return ENCODING_OF[APPROACHES[w.approach]["model"]]
    return ENCODING_OF[w.model]


# BM25 indexes: one per corpus and (backend, analyzer, k1, b, fields), named after the first
# approach with those settings and shared by every approach and seed that has them.
BM25_KEYS = ("backend", "analyzer", "k1", "b")
BM25_INDEXES = {}
BM25_INDEX_OF = {}
for _name, _a in APPROACHES.items():
    if _a["type"] == "bm25":
        _settings = {k: _a[k] for k in BM25_KEYS}
        _settings["fields"] = sorted(_a["fields"]) if _a["fields"] else None
        _index = next((i for i, s in BM25_INDEXES.items() if s == _settings), _name)
        BM25_INDEXES.setdefault(_index, _settings)
        BM25_INDEX_OF[_name] = _index


def bm25_analysis_files():
    """Every BM25 approach's analyzer report (queries and products left without a token)."""
    return expand(
        f"{R}/seed{{seed}}/analysis/{{approach}}.json",
        seed=SEEDS,
        approach=list(BM25_INDEX_OF),
    )


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
    return lambda w: (
        MODELS[w.model][key]
        if MODELS[w.model]["index"] in ("hnsw", "lucene_hnsw")
        else None
    )


def query_set(w):
    """The approach's query set: plain, or q-<its query normalization>."""
    name = APPROACHES[w.approach].get("query_normalization")
    return f"q-{name}" if name else "plain"


def failed_job_errors(snakemake_log):
    """Print the ``ERROR shopbench:`` lines of the failed jobs' logs (named in Snakemake's
    own log), so the cause is the last thing a failed run shows."""
    from shopbench.logs import failed_job_errors as _errors

    lines = _errors(snakemake_log)
    if lines:
        print("\n".join(lines), file=sys.stderr)


# The Lucene engine (backend lucene, index lucene_hnsw) runs in a JVM inside the job: its jobs
# use its conda environment and up to LUCENE_THREADS threads (Lucene's parallel search over
# index segments); -Xmx comes from the job's mem_mb resource when it has one.
LUCENE_THREADS = 4


def uses_lucene(w):
    """Whether a bm25_index, bm25, index or dense job runs the Lucene engine."""
    if hasattr(w, "bm25"):
        return BM25_INDEXES[w.bm25]["backend"] == "lucene"
    if hasattr(w, "model"):
        return MODELS[w.model]["index"] == "lucene_hnsw"
    approach = APPROACHES[w.approach]
    if approach["type"] == "bm25":
        return approach["backend"] == "lucene"
    return MODELS[approach["model"]]["index"] == "lucene_hnsw"


def lucene_threads(default):
    return lambda w: LUCENE_THREADS if uses_lucene(w) else default


def retrieve_env(w):
    """The conda environment of a retrieval job: lucene.yaml for Lucene jobs."""
    return f"../../envs/{'lucene' if uses_lucene(w) else 'retrieve'}.yaml"


# Training (train.smk): trained models, their folders and their inputs.
from shopbench.train import settings as _train_settings

TRAINED = [name for name, m in MODELS.items() if m.get("train")]
FOLDS = SAMPLING.get("folds")


def train_settings(name):
    """Every setting of a trained model (preset and defaults filled in): one param."""
    return _train_settings(MODELS[name], config["text"]["fields"], SAMPLING["locale"])


def trained_path(model, w):
    """A trained model's folder for a job (per seed with folds)."""
    if not FOLDS:
        return model["path"]
    seed = w.seed if "seed" in w.keys() else w.corpus.removeprefix("seed")
    return model["path"].format(seed=seed)


def train_base(w):
    """The base model's path: another model of the config (by name), else a path or id."""
    base = train_settings(w.model)["base"]
    return MODELS[base]["path"] if base in MODELS else base


def train_base_weights(w):
    base = train_settings(w.model)["base"]
    if base in MODELS:
        return model_weights(MODELS[base], w)
    return [base] if Path(base).is_dir() else []


def train_job_settings(w):
    """The train job's settings param: every training setting, and with train.mine.model the
    mining model's name, path and prefixes under mine.by (inside this one param, so a config
    without mine has the same params as before mining existed and retrains nothing)."""
    settings = train_settings(w.model)
    mine = settings.get("mine")
    if mine and mine["model"] is not None:
        model = MODELS[mine["model"]]
        keys = ("name", "path", "query_prefix", "document_prefix")
        settings = {
            **settings,
            "mine": {**mine, "by": {key: model[key] for key in keys}},
        }
    return settings


def train_mine_weights(w):
    """The mining model's folder as an input (so a new one retrains), as for the base."""
    mine = train_settings(w.model).get("mine")
    if not mine or mine["model"] is None:
        return []
    return model_weights(MODELS[mine["model"]], w)


def evaluated_queries(w):
    """The queries the model is evaluated on: its fold's, or every seed's."""
    seeds = [w.seed] if FOLDS else SEEDS
    return [f"{R}/seed{s}/queries.tsv" for s in seeds]


# Late interaction (late.smk): the late-interaction models, and the token files of a job.
LATE_MODELS = [n for n, m in MODELS.items() if m["kind"] == "late-interaction"]


def late_files(w):
    """The corpus' token vectors of the job's late-interaction model, and the seed's query
    token vectors of the approach's query set."""
    name = model_of(w)["name"]
    return {
        "tokens": corpus_of(w, f"tokens/{name}.npy"),
        "lengths": corpus_of(w, f"tokens/{name}.lengths.npy"),
        "query_tokens": f"{R}/seed{w.seed}/query_tokens/{name}.{query_set(w)}.npz",
        "query_seconds": f"{R}/seed{w.seed}/latency/query_tokens/{name}.{query_set(w)}.tsv",
    }
