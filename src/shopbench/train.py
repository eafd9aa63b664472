"""Fine-tuning as a stage: settings, training data, the leakage check, folds, and the run of
sentence-transformers' own trainers (``SentenceTransformerTrainer``, ``CrossEncoderTrainer``).

A model with ``train`` in the config is made by the ``train`` rule from a base model (a path or
hub id, or another model of the config) on ESCI judgments chosen like the sampling (locale,
labels, split, version). Everything here but :func:`fit` and :func:`mine_negatives` is pandas
and numpy; torch, the trainers and the miner are imported only by those two.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ShopbenchError

log = logging.getLogger("shopbench")

#: ESCI gains of the official Task 1 baseline (esci-data ranking/train.py, esci_label2gain).
OFFICIAL_GAINS = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}
#: Losses per model kind: the first is the default.
LOSSES = {"bi-encoder": ("mnrl", "cached-mnrl"),
          "cross-encoder": ("mse", "bce", "lambda", "listnet")}
#: Listwise cross-encoder losses: one example is a query with a list of its judged products.
LISTWISE = ("lambda", "listnet")
#: Default longest list of a listwise loss (``train.list_size``).
LIST_SIZE = 16
#: Defaults of ``train.mine`` (hard negatives mined with a bi-encoder), filled in when it is set:
#: the NV-Retriever setting the library recommends (TopK-PercPos 95%: the top candidates whose
#: similarity is at least 5% below the positive's), one negative per pair, among the 50 nearest.
MINE_DEFAULTS = {"model": None, "range_min": 0, "range_max": 50, "num_negatives": 1,
                 "relative_margin": 0.05, "sampling": "top"}
#: Presets: settings of a published recipe, overridden by any key the config sets itself.
#: esci-task1: amazon-science/esci-data ranking/train.py, the official Task 1 baseline
#: (a CrossEncoder on query + product title, MSE on the gains above with an identity
#: activation, 1 epoch, lr 7e-6, 5,000 warm-up steps, batch 32, max length 512, random
#: state 42, 400 dev queries held out, trained on the train split of the small version; the
#: old CrossEncoder.fit it calls drops the last batch and decays weights by 0.01).
PRESETS = {
    "esci-task1": {
        "base": "cross-encoder/ms-marco-MiniLM-L-12-v2",
        "loss": "mse",
        "gains": dict(OFFICIAL_GAINS),
        "fields": ["product_title"],
        "epochs": 1,
        "learning_rate": 7e-6,
        "warmup": 5000,
        "batch_size": 32,
        "max_length": 512,
        "seed": 42,
        "dev_queries": 400,
        "drop_last": True,
        "weight_decay": 0.01,
        "split": "train",
        "version": "small",
        "labels": ["E", "S", "C", "I"],
    },
}
#: The kind each preset trains.
PRESET_KINDS = {"esci-task1": "cross-encoder"}
#: Defaults of the keys a preset may set (the schema gives the rest theirs).
DEFAULTS = {"base": None, "loss": None, "gains": dict(OFFICIAL_GAINS), "fields": None,
            "epochs": 1, "learning_rate": 2e-5, "warmup": 0.1, "batch_size": 32,
            "max_length": 128, "seed": 42, "dev_queries": 0, "drop_last": False,
            "weight_decay": 0.0, "split": "all",
            "version": "all", "labels": ["E", "S", "C", "I"], "positives": ["E"],
            "hard_negatives": ["S", "C", "I"], "n_queries": "all"}


def settings(model: dict, text_fields: list[str], locale: str = "us") -> dict:
    """The full training settings of a trained model: preset, then the config's own keys,
    then the defaults; ``fields`` null means the model's fields or the corpus text's."""
    train = dict(model["train"])
    preset = train.get("preset")
    out = dict(DEFAULTS)
    if preset is not None:
        out.update(PRESETS[preset])
    out.update({k: v for k, v in train.items() if v is not None})
    if out["loss"] is None:
        out["loss"] = LOSSES[model["kind"]][0]
    if out["loss"] in LISTWISE:  # only then: other losses' settings (a param) stay as they were
        out.setdefault("list_size", LIST_SIZE)
    if out.get("mine") is not None:  # likewise: no mine key unless it is set
        out["mine"] = {**MINE_DEFAULTS, **{k: v for k, v in out["mine"].items()
                                           if v is not None or k == "relative_margin"}}
    if out["fields"] is None:
        out["fields"] = list(model.get("fields") or text_fields)
    if out.get("locale") is None:
        out["locale"] = locale
    return out


def trained_folder(name: str, model: str, folds: bool) -> str:
    """Where the train rule writes a model (``{seed}`` left in place with folds)."""
    return f"results/{name}/seed{{seed}}/models/{model}" if folds else \
        f"results/{name}/models/{model}"


def check_config(config: dict) -> None:
    """Cross-checks of training and folds (after the schema): a trained model has no path
    (its folder is the train rule's), a loss of its kind, a known base; folds fit the seeds
    and the protocol. Sets each trained model's ``path`` to its folder."""
    models = {m["name"]: m for m in config["models"]}
    folds = config["sampling"].get("folds")
    for i, model in enumerate(config["models"]):
        train = model.get("train")
        if train is None:
            if not model.get("path"):
                raise ShopbenchError(f"config models[{i}].path: required key is missing (or "
                                     f"give train: to fine-tune the model in the workflow)")
            continue
        if model.get("path"):
            raise ShopbenchError(
                f"config models[{i}].path: model {model['name']!r} is trained (train: is "
                f"set), so its folder is made by the workflow "
                f"({trained_folder(config['name'], model['name'], bool(folds))}); remove path "
                f"and name the starting model in train.base")
        preset = train.get("preset")
        if preset is not None and PRESET_KINDS[preset] != model["kind"]:
            raise ShopbenchError(f"config models[{i}].train.preset: {preset!r} trains a "
                                 f"{PRESET_KINDS[preset]}, but {model['name']!r} is a "
                                 f"{model['kind']}")
        resolved = settings(model, config["text"]["fields"], config["sampling"]["locale"])
        if resolved["base"] is None:
            raise ShopbenchError(f"config models[{i}].train.base: required key is missing; "
                                 f"name the model to start from (a path, a hub id, or a "
                                 f"model of this config)")
        if resolved["loss"] not in LOSSES[model["kind"]]:
            raise ShopbenchError(f"config models[{i}].train.loss: {resolved['loss']!r} is not "
                                 f"a {model['kind']} loss; use one of {LOSSES[model['kind']]}")
        if train.get("list_size") is not None and resolved["loss"] not in LISTWISE:
            raise ShopbenchError(f"config models[{i}].train.list_size: a list size is for the "
                                 f"listwise losses {LISTWISE} only, but the loss is "
                                 f"{resolved['loss']!r}; remove list_size or set the loss")
        base = models.get(resolved["base"])
        if base is not None:
            if base["name"] == model["name"]:
                raise ShopbenchError(f"config models[{i}].train.base: a model cannot start "
                                     f"from itself")
            if base.get("train"):
                raise ShopbenchError(f"config models[{i}].train.base: {base['name']!r} is "
                                     f"itself trained; start from an untrained model")
        if resolved.get("mine") is not None:
            check_mine(resolved["mine"], model, models, f"config models[{i}].train.mine")
        model["path"] = trained_folder(config["name"], model["name"], bool(folds))
    if folds:
        if config["protocol"] == "catalogue":
            raise ShopbenchError("config sampling.folds: the catalogue protocol shares one "
                                 "corpus across seeds, but each fold needs its own model; use "
                                 "protocol judged-pool, seed or task1-rerank, or the official "
                                 "split (sampling.split: test, train.split: train)")
        bad = [s for s in config["seeds"] if s >= folds]
        if bad:
            raise ShopbenchError(
                f"config seeds: with sampling.folds: {folds} each seed is the fold it "
                f"evaluates (0 to {folds - 1}); {bad} is not a fold. Use seeds: "
                f"{list(range(folds))}")


def check_mine(mine: dict, model: dict, models: dict, where: str) -> None:
    """Hard-negative mining: a bi-encoder trains with it, the mining model is an untrained
    bi-encoder of the config (or the base, ``model: null``), the rank window holds the
    negatives asked for."""
    if model["kind"] != "bi-encoder":
        raise ShopbenchError(f"{where}: mined hard negatives are for bi-encoders (their "
                             f"(query, product, negative) triples), but {model['name']!r} is a "
                             f"{model['kind']}; remove mine")
    name = mine["model"]
    if name is not None:
        other = models.get(name)
        if other is None:
            raise ShopbenchError(f"{where}.model: {name!r} is not a model of this config; name "
                                 f"a bi-encoder of models (or null: the base)")
        if other["kind"] != "bi-encoder":
            raise ShopbenchError(f"{where}.model: {name!r} is a {other['kind']}; mining "
                                 f"needs a bi-encoder")
        if other.get("train"):
            raise ShopbenchError(f"{where}.model: {name!r} is itself trained; mine with an "
                                 f"untrained bi-encoder (or null: the base)")
    if mine["range_min"] >= mine["range_max"]:
        raise ShopbenchError(f"{where}: range_min {mine['range_min']} must be below range_max "
                             f"{mine['range_max']}")
    if mine["num_negatives"] > mine["range_max"] - mine["range_min"]:
        raise ShopbenchError(f"{where}: num_negatives {mine['num_negatives']} do not fit in "
                             f"the {mine['range_max'] - mine['range_min']} ranks from range_min "
                             f"to range_max")


# --- queries, folds and leakage ------------------------------------------------------------

def normalize_query(text: str) -> str:
    """The query text compared for leakage: NFKC, case-folded, whitespace collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


def fold_queries(filtered: pd.DataFrame, folds: int, fold_seed: int) -> list[np.ndarray]:
    """The query ids of ``filtered`` in ``folds`` disjoint folds. Queries are grouped by
    normalized text (two ids of one text share a fold), the groups permuted with
    ``RandomState(fold_seed)`` and cut into ``folds`` near-equal parts."""
    queries = filtered.drop_duplicates("query_id")[["query_id", "query"]]
    keys = queries["query"].map(normalize_query)
    groups = np.sort(keys.unique())
    if len(groups) < folds:
        raise ShopbenchError(f"sampling.folds: {folds} folds but only {len(groups)} distinct "
                             f"queries pass the filter; use fewer folds")
    order = np.random.RandomState(fold_seed).permutation(len(groups))
    fold_of_key = {groups[g]: f for f, part in enumerate(np.array_split(order, folds))
                   for g in part}
    fold = keys.map(fold_of_key).to_numpy()
    ids = queries["query_id"].to_numpy()
    return [np.sort(ids[fold == f]) for f in range(folds)]


def overlap(train: pd.DataFrame, evaluated: pd.DataFrame) -> dict:
    """Queries shared by a training set and an evaluated set (frames with qid and query):
    by id, by normalized text, and either."""
    ids = set(train["qid"].astype("int64")) & set(evaluated["qid"].astype("int64"))
    train_text = set(train["query"].map(normalize_query))
    by_text = evaluated[evaluated["query"].map(normalize_query).isin(train_text)]
    either = set(ids) | set(by_text["qid"].astype("int64"))
    return {"ids": len(ids), "texts": by_text["query"].map(normalize_query).nunique(),
            "queries": len(either)}


def check_leakage(train: pd.DataFrame, evaluated: pd.DataFrame, model: str) -> None:
    """Stop when a training query is evaluated (same id or same normalized text)."""
    found = overlap(train, evaluated)
    if found["queries"]:
        raise ShopbenchError(
            f"model {model!r}: {found['queries']} of the {evaluated['qid'].nunique()} evaluated "
            f"queries are also training queries ({found['ids']} by query id, {found['texts']} "
            f"by normalized text); training on evaluated queries inflates every metric. Train "
            f"and evaluate on disjoint queries: the official split (train.split: train, "
            f"sampling.split: test), or sampling.folds on data without a split.")


def training_judgments(examples: pd.DataFrame, cfg: dict, locale: str,
                       exclude: pd.DataFrame | None = None) -> pd.DataFrame:
    """The judgments a model trains on: locale, labels, split and version as configured;
    ``exclude`` (qid, query): queries left out by id and normalized text (the held-out fold)."""
    from . import data as D

    rows = D.filter_split_version(examples, cfg["split"], cfg["version"])
    rows = rows[(rows["product_locale"] == locale) & rows["esci_label"].isin(cfg["labels"])]
    if exclude is not None and len(exclude):
        texts = set(exclude["query"].map(normalize_query))
        drop = rows["query_id"].isin(set(exclude["qid"].astype("int64"))) | \
            rows["query"].map(normalize_query).isin(texts)
        rows = rows[~drop]
    if cfg.get("n_queries", "all") != "all":
        ids = rows["query_id"].unique()
        n = min(int(cfg["n_queries"]), len(ids))
        keep = np.random.RandomState(cfg["seed"]).choice(ids, size=n, replace=False)
        rows = rows[rows["query_id"].isin(set(keep))]
    if rows.empty:
        raise ShopbenchError("training: no judgments left after the filters (train.locale, "
                             "labels, split, version, and the evaluated queries left out); "
                             "check the train settings against the data")
    return rows.reset_index(drop=True)


def split_dev(rows: pd.DataFrame, n_dev: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n_dev`` queries held out of training as the dev set, drawn as the official recipe
    draws them: ``sklearn.model_selection.train_test_split(ids, test_size=n_dev / len(ids),
    random_state=seed)`` over the query ids in file order, whose test part is the first
    ``ceil(test_size * len(ids))`` of ``RandomState(seed).permutation(len(ids))``."""
    import math

    if not n_dev:
        return rows, rows.iloc[0:0]
    ids = rows["query_id"].unique()
    if n_dev >= len(ids):
        raise ShopbenchError(f"train.dev_queries: {n_dev} dev queries leave none of the "
                             f"{len(ids)} training queries to train on; lower dev_queries")
    n_test = math.ceil(n_dev / len(ids) * len(ids))
    dev = set(ids[np.random.RandomState(seed).permutation(len(ids))[:n_test]])
    mask = rows["query_id"].isin(dev)
    return rows[~mask], rows[mask]


def with_text(rows: pd.DataFrame, products: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """``rows`` with the product text of ``fields`` (rows whose product has no text dropped)."""
    from . import text as T

    prods = products[["product_id", "product_locale", *fields]].copy()
    prods["text"] = T.product_text(prods, fields)
    out = rows.merge(prods[["product_id", "product_locale", "text"]],
                     on=["product_id", "product_locale"], how="inner")
    return out[out["text"] != ""].reset_index(drop=True)


def pairs(rows: pd.DataFrame, kind: str, cfg: dict, query_prefix: str = "",
          document_prefix: str = "", mined: dict[str, list[str]] | None = None
          ) -> dict[str, list]:
    """Training columns, in order, for the trainer's dataset.

    bi-encoder: (anchor, positive[, negative]) for each row whose label is in ``positives``;
    with ``hard_negatives`` labels, one product of those labels of the same query drawn with
    the seed (a random product of another query where the query has none). With ``mined``
    (query text -> mined product texts, best first: :func:`mine_negatives`), each pair gets
    the first ``mine.num_negatives`` of its query's instead (columns negative, or negative_1
    to negative_n), the missing ones drawn as above. cross-encoder: (query, text, label): the
    gain of the label (mse) or 1/0 for positives (bce); with a listwise loss, :func:`lists`.
    """
    rng = np.random.RandomState(cfg["seed"])
    query = (query_prefix + rows["query"].astype(str)).tolist() if kind == "bi-encoder" else \
        rows["query"].astype(str).tolist()
    if kind == "cross-encoder" and cfg["loss"] in LISTWISE:
        return lists(rows, cfg)
    if kind == "cross-encoder":
        if cfg["loss"] == "mse":
            label = rows["esci_label"].map(cfg["gains"]).astype(float)
        else:
            label = rows["esci_label"].isin(cfg["positives"]).astype(float)
        return {"query": query, "text": rows["text"].tolist(), "label": label.tolist()}
    docs = (document_prefix + rows["text"]).to_numpy()
    positive = rows["esci_label"].isin(cfg["positives"]).to_numpy()
    out = {"anchor": [q for q, p in zip(query, positive) if p],
           "positive": docs[positive].tolist()}
    if not out["anchor"]:
        raise ShopbenchError(f"training: no rows with a positive label {cfg['positives']} "
                             f"(train.positives) among the training judgments")
    hard = cfg.get("hard_negatives") or []
    if mined is not None:
        out.update(_mined_columns(rows, docs, positive, hard, mined,
                                  int(cfg["mine"]["num_negatives"]), document_prefix, rng))
    elif hard:
        qids = rows["query_id"].to_numpy()
        is_hard = rows["esci_label"].isin(hard).to_numpy()
        by_query = {}
        for q, d in zip(qids[is_hard], docs[is_hard]):
            by_query.setdefault(q, []).append(d)
        negatives = []
        for q in qids[positive]:
            pool = by_query.get(q)
            if pool:
                negatives.append(pool[rng.randint(len(pool))])
            else:
                others = np.flatnonzero(qids != q)
                negatives.append(docs[others[rng.randint(len(others))]])
        out["negative"] = negatives
    return out


def _mined_columns(rows, docs, positive, hard, mined, n, document_prefix, rng) -> dict:
    """The negative columns of :func:`pairs` from mined negatives: the first ``n`` of the
    pair's query, the missing ones drawn with ``rng`` from the query's ``hard`` labels (not
    already taken), else a product of another query."""
    qids = rows["query_id"].to_numpy()
    is_hard = rows["esci_label"].isin(hard).to_numpy()
    by_query = {}
    for q, d in zip(qids[is_hard], docs[is_hard]):
        by_query.setdefault(q, []).append(d)
    columns = [[] for _ in range(n)]
    for q, text in zip(qids[positive], rows["query"].astype(str).to_numpy()[positive]):
        chosen = [document_prefix + d for d in mined.get(text, [])[:n]]
        while len(chosen) < n:
            pool = [d for d in by_query.get(q, []) if d not in chosen]
            if pool:
                chosen.append(pool[rng.randint(len(pool))])
            else:
                others = np.flatnonzero(qids != q)
                chosen.append(docs[others[rng.randint(len(others))]])
        for column, negative in zip(columns, chosen):
            column.append(negative)
    if n == 1:
        return {"negative": columns[0]}
    return {f"negative_{j}": column for j, column in enumerate(columns, start=1)}


def mined_count(rows: pd.DataFrame, cfg: dict, mined: dict[str, list[str]]) -> int:
    """Mined negatives the training pairs take (the rest of their negatives are drawn)."""
    n = int(cfg["mine"]["num_negatives"])
    texts = rows.loc[rows["esci_label"].isin(cfg["positives"]), "query"].astype(str)
    return int(sum(min(len(mined.get(t, [])), n) for t in texts))


def mine_negatives(rows: pd.DataFrame, cfg: dict, path: str, *, name: str = "",
                   model_name: str = "", query_prefix: str = "", document_prefix: str = "",
                   device: str = "cpu", threads: int = 1) -> tuple[dict[str, list[str]], dict]:
    """Hard negatives of every training query mined with the bi-encoder ``path`` by
    sentence-transformers' ``util.mine_hard_negatives``.

    The corpus is the texts of the products of ``rows`` (the training judgments: nothing an
    evaluated query alone judged); the anchors are the query texts with their positives
    (``train.positives``), which the library never returns as a negative of their query (it
    groups the positives of one query text). Beyond those, a product the query judged with a
    label outside ``hard_negatives`` is never a negative either: the library is asked for that
    many more and they are dropped after. ``mine``: ``range_min``/``range_max`` (the rank
    window), ``relative_margin`` (null: none), ``num_negatives``, ``sampling`` (top: the
    best; random: drawn with the seed). Texts are encoded at ``max_length`` with the prefixes.
    Returns query text -> negative texts (best first, raw: no prefix) and the facts of the run.
    ``name``: the trained model (for the log); ``model_name``: the mining model's, if any.
    """
    import contextlib
    import random

    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    from . import models as M

    mine = cfg["mine"]
    started = time.monotonic()
    M.set_threads(threads)
    texts = rows["query"].astype(str)
    positive = rows["esci_label"].isin(cfg["positives"])
    kept = rows["esci_label"].isin(cfg.get("hard_negatives") or []) & ~positive
    positives = rows[positive].groupby(texts[positive])["text"].agg(set)
    excluded = {q: set(t) - positives.get(q, set())
                for q, t in rows[~kept].groupby(texts[~kept])["text"]}
    extra = max((len(t) for t in excluded.values()), default=0)
    n = int(mine["num_negatives"])
    window = int(mine["range_max"]) - int(mine["range_min"])
    corpus = list(dict.fromkeys(rows["text"].tolist()))
    pairs_in = Dataset.from_dict({"anchor": texts[positive].tolist(),
                                  "positive": rows.loc[positive, "text"].tolist()})
    model = M.load_bi_encoder(path, model_name, device, max_length=int(cfg["max_length"]))
    log.info("train %s: mining %d hard negative(s) per query with %s (%s), ranks %d-%d, "
             "relative margin %s, %s, among %d products for %d queries", name, n,
             model_name or path,
             M.pick_device(device), mine["range_min"], mine["range_max"],
             mine["relative_margin"], mine["sampling"], len(corpus), len(positives))
    random.seed(int(cfg["seed"]))  # the library's random sampling draws with Python's random
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink), \
            contextlib.redirect_stdout(sink):  # its progress bars and tables
        found = mine_hard_negatives(
            pairs_in, model, anchor_column_name="anchor", positive_column_name="positive",
            corpus=corpus, range_min=int(mine["range_min"]), range_max=int(mine["range_max"]),
            relative_margin=mine["relative_margin"], num_negatives=min(n + extra, window),
            sampling_strategy=mine["sampling"], query_prompt=query_prefix,
            corpus_prompt=document_prefix, output_format="triplet", verbose=False,
            batch_size=M.resolve_batch_size("auto", M.pick_device(device)))
    candidates: dict[str, dict] = {}
    for anchor, negative in zip(found["anchor"], found["negative"]):
        candidates.setdefault(anchor, {})[negative] = None  # score order, once each
    rng = np.random.RandomState(int(cfg["seed"]))
    mined = {}
    for query in positives.index:
        left = [t for t in candidates.get(query, {}) if t not in excluded.get(query, ())]
        if mine["sampling"] == "random" and len(left) > n:
            left = [left[i] for i in np.sort(rng.choice(len(left), n, replace=False))]
        mined[query] = left[:n]
    seconds = time.monotonic() - started
    found_n = sum(map(len, mined.values()))
    log.info("train %s: mined %d negatives for %d of %d queries in %.0f s", name, found_n,
             sum(1 for v in mined.values() if v), len(mined), seconds)
    return mined, {"model": M.model_fingerprint(path), "name": model_name or None,
                   "settings": dict(mine),
                   "corpus_products": len(corpus), "queries": len(mined),
                   "queries_with_negatives": sum(1 for v in mined.values() if v),
                   "negatives": found_n, "device": M.pick_device(device),
                   "seconds": round(seconds, 1)}


def lists(rows: pd.DataFrame, cfg: dict) -> dict[str, list]:
    """Listwise training columns: one example per query (in order of first appearance),
    (query, [its judged products' texts], [their gains, ``train.gains``]), the products in
    file order. A query with more than ``list_size`` judgments keeps ``list_size`` of them,
    drawn without replacement with ``RandomState(seed)`` (queries in order, one generator),
    still in file order."""
    rng = np.random.RandomState(cfg["seed"])
    size = int(cfg["list_size"])
    gains = rows["esci_label"].map(cfg["gains"]).astype(float).to_numpy()
    texts = rows["text"].to_numpy()
    query = rows["query"].astype(str).to_numpy()
    out = {"query": [], "docs": [], "label": []}
    for _, where in rows.groupby("query_id", sort=False).indices.items():
        if len(where) > size:
            where = np.sort(rng.choice(where, size=size, replace=False))
        out["query"].append(query[where[0]])
        out["docs"].append(texts[where].tolist())
        out["label"].append(gains[where].tolist())
    return out


def count_pairs(columns: dict[str, list]) -> int:
    """(query, product) pairs of training columns: one per row, or per listed product."""
    if "docs" in columns:
        return sum(len(docs) for docs in columns["docs"])
    return len(next(iter(columns.values())))


def data_fingerprint(columns: dict[str, list]) -> str:
    """sha256 of the training examples, in order (what the model saw)."""
    import hashlib

    digest = hashlib.sha256()
    for name, values in columns.items():
        digest.update(name.encode())
        for v in values:
            digest.update(b"\x1f" + str(v).encode("utf-8"))
    return digest.hexdigest()


# --- the run ---------------------------------------------------------------------------------

def _umask_mode(folder: Path) -> None:
    """Files the trainer saves are private (0600); give them the umask's mode, as every
    other result file has."""
    umask = os.umask(0)
    os.umask(umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)
    folder.chmod(0o777 & ~umask)


def _callback(name: str, batch_size: int, curve: list, pairs_per_example: float = 1.0):
    """A TrainerCallback logging step, loss, rate and time left; it fills ``curve``.
    ``pairs_per_example``: (query, product) pairs of one training example (a listwise
    example is a list of them), for the rate in pairs/s."""
    from transformers import TrainerCallback

    from .progress import format_seconds

    class ProgressCallback(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.monotonic()
            if pairs_per_example == 1.0:
                log.info("train %s: %d steps of %d pairs", name, state.max_steps, batch_size)
            else:
                log.info("train %s: %d steps of %d lists (%.1f pairs a list)", name,
                         state.max_steps, batch_size, pairs_per_example)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return
            step, total = state.global_step, state.max_steps
            curve.append((step, float(logs["loss"])))
            elapsed = time.monotonic() - self.start
            rate = step / elapsed if elapsed > 0 else float("nan")
            left = (total - step) / rate if rate > 0 else float("nan")
            log.info("train %s: step %d/%d (%.1f%%), loss %.4f, %.1f pairs/s, %s left", name,
                     step, total, 100.0 * step / max(total, 1), logs["loss"],
                     rate * batch_size * pairs_per_example,
                     format_seconds(left) if left == left else "?")

    return ProgressCallback()


def fit(columns: dict[str, list], dev: dict[str, list] | None, *, kind: str, base: str,
        cfg: dict, out: str, name: str, device: str = "cpu", threads: int = 1) -> dict:
    """Train ``base`` on ``columns`` with the library trainer and save the model to ``out``
    (a new folder). Returns the loss curve and run facts for provenance."""
    import tempfile

    import torch
    from datasets import Dataset
    from transformers import set_seed

    from . import models as M

    M.set_threads(threads)
    device = M.pick_device(device)
    resolved = M.resolve_model(base)
    set_seed(cfg["seed"])  # before the model: a cross-encoder's new head is drawn at load
    warmup = cfg["warmup"]
    common = dict(num_train_epochs=cfg["epochs"], per_device_train_batch_size=cfg["batch_size"],
                  per_device_eval_batch_size=cfg["batch_size"],
                  learning_rate=cfg["learning_rate"],
                  warmup_steps=int(warmup) if warmup >= 1 else float(warmup),
                  seed=cfg["seed"], data_seed=cfg["seed"], save_strategy="no",
                  eval_strategy="no", report_to="none", disable_tqdm=True,
                  logging_steps=max(1, -(-len(columns["label" if "label" in columns else
                                                         "anchor"]) // cfg["batch_size"])
                                    * cfg["epochs"] // 100),
                  dataloader_num_workers=0, use_cpu=device == "cpu",
                  dataloader_drop_last=bool(cfg["drop_last"]),
                  weight_decay=float(cfg["weight_decay"]))
    # fp32 on every device: the official recipe trained without mixed precision (the old
    # CrossEncoder.fit's use_amp defaults to False)
    train_set = Dataset.from_dict(columns)
    dev_set = Dataset.from_dict(dev) if dev and len(next(iter(dev.values()))) else None
    curve: list = []
    with M._no_loading_bars(resolved):
        if kind == "bi-encoder":
            from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                               SentenceTransformerTrainingArguments)
            from sentence_transformers.sentence_transformer import losses
            from sentence_transformers.sentence_transformer.training_args import BatchSamplers

            model = SentenceTransformer(resolved, device=device)
            model.max_seq_length = int(cfg["max_length"])
            loss = (losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=8)
                    if cfg["loss"] == "cached-mnrl" else
                    losses.MultipleNegativesRankingLoss(model))
            trainer_cls, args_cls = SentenceTransformerTrainer, SentenceTransformerTrainingArguments
            extra = {"batch_sampler": BatchSamplers.NO_DUPLICATES}
        else:
            from sentence_transformers.cross_encoder import (CrossEncoder, CrossEncoderTrainer,
                                                             CrossEncoderTrainingArguments)
            from sentence_transformers.cross_encoder import losses

            model = CrossEncoder(resolved, num_labels=1, max_length=int(cfg["max_length"]),
                                 device=device)
            if cfg["loss"] == "mse":
                loss = losses.MSELoss(model, activation_fn=torch.nn.Identity())
            elif cfg["loss"] == "lambda":  # NDCG-Loss2++, the library's default and advice
                loss = losses.LambdaLoss(model, weighting_scheme=losses.NDCGLoss2PPScheme())
            elif cfg["loss"] == "listnet":
                loss = losses.ListNetLoss(model)
            else:
                loss = losses.BinaryCrossEntropyLoss(model)
            trainer_cls, args_cls = CrossEncoderTrainer, CrossEncoderTrainingArguments
            extra = {}
    with tempfile.TemporaryDirectory(prefix="shopbench-train-") as scratch:
        args = args_cls(output_dir=scratch, **common, **extra)
        trainer = trainer_cls(model=model, args=args, train_dataset=train_set, loss=loss,
                              callbacks=[_callback(name, cfg["batch_size"], curve,
                                                   count_pairs(columns) / len(train_set))])
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # our progress lines replace its raw dicts
        started = time.monotonic()
        result = trainer.train()
        seconds = time.monotonic() - started
        dev_loss = trainer.evaluate(dev_set)["eval_loss"] if dev_set is not None else None
    if dev_loss is not None:
        log.info("train %s: dev loss %.4f on %d pairs", name, dev_loss, len(dev_set))
    model.save(out, create_model_card=False)  # the model card would copy training examples
    for card in ("README.md",):
        (Path(out) / card).unlink(missing_ok=True)
    _umask_mode(Path(out))
    return {"curve": curve, "steps": int(result.global_step), "seconds": round(seconds, 1),
            "train_loss": float(result.training_loss), "dev_loss": dev_loss,
            "pairs_per_second": round(count_pairs(columns) * cfg["epochs"] / seconds, 2)
            if seconds > 0 else None, "device": device, "threads": threads}


def plot_curve(curve: list, path: str, name: str, dpi: int = 120,
               settings: dict | None = None) -> None:
    """The training loss by step, as a PNG (the report's training plot); ``settings`` (the
    model's training settings) name the loss and schedule under the title."""
    from .report import _plt, _save_figure

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if curve:
        steps, losses = zip(*curve)
        ax.plot(steps, losses, marker="." if len(curve) < 50 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    title = f"{name}: training loss"
    if settings:
        title += (f"\n{settings.get('loss')}, lr {settings.get('learning_rate')}, "
                  f"{settings.get('epochs')} epoch(s), batch {settings.get('batch_size')}, "
                  f"max length {settings.get('max_length')}")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save_figure(fig, path, dpi)


def write_record(folder: str, record: dict) -> None:
    """training.json in the model folder: settings, data and base fingerprints, run facts."""
    Path(folder, "training.json").write_text(
        json.dumps(record, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def evaluated_queries(examples: pd.DataFrame, config: dict) -> pd.DataFrame:
    """The queries (qid, query) the sample rule draws over every seed, by the same calls as
    steps/data.sample (for the parse-time leakage check)."""
    from . import data as D

    s = config["sampling"]
    ex = D.filter_split_version(examples, s["split"], s["version"])
    filtered = D.filter_examples(ex, s["locale"], s["labels"])
    qids = set()
    for seed in config["seeds"]:
        if config["protocol"] == "catalogue":
            qids |= set(D.sample_queries(filtered, s["n_queries"], seed,
                                         s["on_too_few_queries"]))
        else:
            qids |= set(D.sample_examples(filtered, s["n_queries"], s["n_rows"], seed,
                                          s["on_too_few_queries"])["query_id"])
    rows = filtered[filtered["query_id"].isin(qids)].drop_duplicates("query_id")
    return rows[["query_id", "query"]].rename(columns={"query_id": "qid"})


def check_config_leakage(config: dict) -> None:
    """Parse-time leakage check: no trained model's training query is an evaluated query.

    Runs when the config trains a model without folds (folds leave the held-out fold out) and
    the examples file is there (with data.download it may not be yet: the train job checks
    again, before it writes anything, in every case)."""
    from . import data as D

    trained = [m for m in config["models"] if m.get("train")]
    path = config["data"]["examples"]
    if not trained or config["sampling"].get("folds") or not Path(path).is_file():
        return
    examples = D.read_examples(path)
    evaluated = evaluated_queries(examples, config)
    for model in trained:
        cfg = settings(model, config["text"]["fields"], config["sampling"]["locale"])
        rows = training_judgments(examples, cfg, cfg["locale"])
        queries = rows.drop_duplicates("query_id").rename(columns={"query_id": "qid"})
        check_leakage(queries[["qid", "query"]], evaluated, model["name"])
