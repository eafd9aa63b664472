"""Training: fine-tune a model on ESCI judgments (shopbench.train), after checking that none of
its training queries is evaluated; the model folder is then an input of encode and rerank."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from .. import trec
from ..files import sha256_file

log = logging.getLogger("shopbench")


def read_evaluated(paths: list[str]) -> pd.DataFrame:
    """The evaluated queries (qid, query) of every given queries file."""
    frames = [trec.read_queries(p)[["qid", "query"]] for p in paths]
    if not frames:
        return pd.DataFrame({"qid": pd.Series(dtype="int64"), "query": pd.Series(dtype=str)})
    return pd.concat(frames).drop_duplicates("qid").reset_index(drop=True)


def train(examples: str, products: str, model_out: str, curve_out: str, *,
          evaluated: list[str], model: str, kind: str, base_path: str, settings: dict,
          exclude_evaluated: bool = False, query_prefix: str = "",
          document_prefix: str = "", device: str = "cpu", threads: int = 1, dpi: int = 120,
          base_weights: str | None = None, mine_weights: str | None = None) -> None:
    """Train ``model`` from ``base_path`` with ``settings`` (shopbench.train.settings).

    ``evaluated``: the queries files of the seeds this model is evaluated on. Without folds a
    training query among them stops the job before anything is written; with folds
    (``exclude_evaluated``) they are the held-out fold, left out of the training data.
    With ``train.mine`` the hard negatives are mined first (shopbench.train.mine_negatives)
    with ``settings["mine"]["by"]`` (name, path, query_prefix, document_prefix of a bi-encoder
    of the config, set by the rule; its folder is the input ``mine_weights``), or without it
    with the base and this model's prefixes.
    """
    from .. import data as D
    from .. import models as M
    from .. import train as T

    cfg = dict(settings)
    mine_model = None
    if cfg.get("mine") is not None:  # the mining model is not a setting: not recorded as one
        cfg["mine"] = dict(cfg["mine"])
        mine_model = cfg["mine"].pop("by", None)
    locale = cfg["locale"]
    ex = D.read_examples(examples)
    held_out = read_evaluated(evaluated)
    rows = T.training_judgments(ex, cfg, locale, held_out if exclude_evaluated else None)
    queries = rows.drop_duplicates("query_id").rename(columns={"query_id": "qid"})
    T.check_leakage(queries[["qid", "query"]], held_out, model)
    rows, dev_rows = T.split_dev(rows, int(cfg["dev_queries"]), int(cfg["seed"]))
    prods = D.read_products(products, cfg["fields"])
    rows = T.with_text(rows, prods, cfg["fields"])
    dev_rows = T.with_text(dev_rows, prods, cfg["fields"])
    base = base_weights or base_path
    mined, mining = None, None
    if cfg.get("mine") is not None:
        miner = mine_model or {"name": "", "path": base, "query_prefix": query_prefix,
                               "document_prefix": document_prefix}
        mined, mining = T.mine_negatives(
            rows, cfg, miner["path"], name=model, model_name=miner["name"],
            query_prefix=miner["query_prefix"], document_prefix=miner["document_prefix"],
            device=device, threads=threads)
    columns = T.pairs(rows, kind, cfg, query_prefix, document_prefix, mined)
    if mined is not None:
        wanted = len(columns["anchor"]) * int(cfg["mine"]["num_negatives"])
        mining["pair_negatives_mined"] = T.mined_count(rows, cfg, mined)
        mining["pair_negatives_drawn"] = wanted - mining["pair_negatives_mined"]
        log.info("train %s: %d of the %d pairs' negatives mined, %d drawn as without mine "
                 "(too few mined)", model, mining["pair_negatives_mined"], wanted,
                 mining["pair_negatives_drawn"])
    dev = T.pairs(dev_rows, kind, cfg, query_prefix, document_prefix) if len(dev_rows) else None
    n_pairs = T.count_pairs(columns)
    n_lists = len(columns["docs"]) if "docs" in columns else None
    log.info("train %s (%s, loss %s) from %s: %d queries, %d training pairs%s%s; %d evaluated "
             "queries %s", model, kind, cfg["loss"], base_path, rows["query_id"].nunique(),
             n_pairs, f" in {n_lists} lists of at most {cfg['list_size']}" if n_lists else "",
             f", {dev_rows['query_id'].nunique()} dev queries" if dev else "",
             len(held_out), "left out (held-out fold)" if exclude_evaluated else
             "checked: none is a training query")
    target = Path(model_out)
    scratch = target.parent / f".{target.name}.training"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    try:
        facts = T.fit(columns, dev, kind=kind, base=base, cfg=cfg, out=str(scratch), name=model,
                      device=device, threads=threads)
        first, last = (facts["curve"][0][1], facts["curve"][-1][1]) if facts["curve"] else \
            (None, None)
        log.info("train %s: %d steps in %.0f s, loss %s -> %s", model, facts["steps"],
                 facts["seconds"], first, last)
        trec.write_tsv(pd.DataFrame(facts.pop("curve"), columns=["step", "loss"]),
                       scratch / "loss.tsv")
        T.write_record(str(scratch), {
            "model": model, "kind": kind, "settings": cfg,
            "base": M.model_fingerprint(base),
            "data": {"examples": {"path": examples, "sha256": sha256_file(examples)},
                     "products": {"path": products, "sha256": sha256_file(products)},
                     "training_pairs_sha256": T.data_fingerprint(columns),
                     "training_queries": int(rows["query_id"].nunique()),
                     "training_pairs": n_pairs,
                     **({"training_lists": n_lists} if n_lists else {}),
                     "dev_queries": int(dev_rows["query_id"].nunique()),
                     "held_out_queries": len(held_out), "locale": locale},
            "run": facts,
            **({"mining": mining} if mining else {}),
        })
        curve = pd.read_csv(scratch / "loss.tsv", sep="\t")
        T.plot_curve(list(zip(curve["step"], curve["loss"])), curve_out, model, dpi, cfg)
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
