"""Fine-tuning (shopbench.train, steps/train.py): settings and the esci-task1 preset, config
checks, folds, the leakage check, training pairs and listwise lists, hard negatives mined with a
tiny bi-encoder (never a positive of the query, the same twice), and real training of tiny
random models with sentence-transformers' trainers (loaded back by encode's and rerank's
loaders; identical weights from two runs with one seed)."""

from __future__ import annotations

import copy
import hashlib
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopbench import data as D
from shopbench import train as T
from shopbench.config import validate
from shopbench.errors import ShopbenchError
from shopbench.steps.train import train as train_step

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
EXAMPLES = str(DEMO / "shopping_queries_dataset_examples.parquet")
PRODUCTS = str(DEMO / "shopping_queries_dataset_products.parquet")


def config_with(*models: dict, **top) -> dict:
    config = {
        "name": "train",
        "data": {"examples": EXAMPLES, "products": PRODUCTS},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": 10, "n_rows": 100,
                     "split": "test"},
        "protocol": "judged-pool",
        "models": [{"name": "mini", "kind": "bi-encoder", "path": "some/bi-encoder"},
                   *copy.deepcopy(list(models))],
        "approaches": [{"name": "dense", "type": "dense", "model": "mini"}],
    }
    config.update(top)
    return config


# --- the esci-task1 preset ---------------------------------------------------------------------

#: amazon-science/esci-data, ranking/train.py (Task 1 baseline), written out from the recipe.
OFFICIAL_RECIPE = {
    "base": "cross-encoder/ms-marco-MiniLM-L-12-v2", "loss": "mse",
    "gains": {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}, "fields": ["product_title"],
    "epochs": 1, "learning_rate": 7e-6, "warmup": 5000, "batch_size": 32, "max_length": 512,
    "seed": 42, "dev_queries": 400, "drop_last": True, "weight_decay": 0.01,
}


def test_esci_task1_preset_is_the_official_recipe():
    model = {"name": "task1", "kind": "cross-encoder", "train": {"preset": "esci-task1"}}
    got = T.settings(model, ["product_title", "product_description"])
    assert {k: got[k] for k in OFFICIAL_RECIPE} == OFFICIAL_RECIPE
    assert (got["split"], got["version"], got["labels"]) == ("train", "small",
                                                            ["E", "S", "C", "I"])
    # through the config: the preset fills every key the config leaves unset
    config = validate(config_with({"name": "task1", "kind": "cross-encoder",
                                   "train": {"preset": "esci-task1"}}))
    task1 = next(m for m in config["models"] if m["name"] == "task1")
    assert T.settings(task1, config["text"]["fields"])["learning_rate"] == 7e-6
    assert task1["path"] == "results/train/models/task1"


def test_the_shipped_esci_task1_experiment_trains_the_official_recipe():
    import yaml

    config = validate(yaml.safe_load((REPO / "experiments" / "esci-task1.yaml").read_text()))
    model = next(m for m in config["models"] if m.get("train"))
    got = T.settings(model, config["text"]["fields"], config["sampling"]["locale"])
    assert {k: got[k] for k in OFFICIAL_RECIPE} == OFFICIAL_RECIPE
    assert (got["split"], got["locale"]) == ("train", "us")
    assert (config["sampling"]["split"], config["text"]["fields"]) == ("test", ["product_title"])


def test_config_keys_override_the_preset():
    model = {"name": "t", "kind": "cross-encoder",
             "train": {"preset": "esci-task1", "max_length": 64, "warmup": 0.1}}
    got = T.settings(model, ["product_title"])
    assert (got["max_length"], got["warmup"], got["learning_rate"]) == (64, 0.1, 7e-6)


def test_defaults_per_kind():
    bi = T.settings({"name": "b", "kind": "bi-encoder", "fields": ["product_title"],
                     "train": {"base": "x"}}, ["product_description"], "es")
    ce = T.settings({"name": "c", "kind": "cross-encoder", "train": {"base": "x"}},
                    ["product_description"])
    assert (bi["loss"], bi["fields"], bi["locale"]) == ("mnrl", ["product_title"], "es")
    assert (ce["loss"], ce["fields"]) == ("mse", ["product_description"])


# --- config checks -----------------------------------------------------------------------------

@pytest.mark.parametrize("model, top, message", [
    ({"name": "t", "kind": "bi-encoder", "path": "x", "train": {"base": "mini"}}, {},
     r"models\[1\]\.path: model 't' is trained"),
    ({"name": "t", "kind": "bi-encoder", "train": {"loss": "mnrl"}}, {},
     r"models\[1\]\.train\.base: required"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "loss": "mse"}}, {},
     r"train\.loss: 'mse' is not a bi-encoder loss"),
    ({"name": "t", "kind": "bi-encoder", "train": {"preset": "esci-task1"}}, {},
     r"train\.preset: 'esci-task1' trains a cross-encoder"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "t"}}, {},
     r"cannot start from itself"),
    ({"name": "t", "kind": "bi-encoder"}, {}, r"models\[1\]\.path: required key is missing"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "loss": "lambda"}}, {},
     r"train\.loss: 'lambda' is not a bi-encoder loss; use one of \('mnrl', 'cached-mnrl'\)"),
    ({"name": "t", "kind": "cross-encoder", "train": {"base": "x", "list_size": 8}}, {},
     r"train\.list_size: a list size is for the listwise losses \('lambda', 'listnet'\) "
     r"only, but the loss is 'mse'"),
    ({"name": "t", "kind": "cross-encoder", "train": {"base": "x", "loss": "listnet",
                                                      "list_size": 0}}, {},
     r"list_size"),
    ({"name": "t", "kind": "cross-encoder", "train": {"base": "x", "mine": {}}}, {},
     r"train\.mine: mined hard negatives are for bi-encoders .* but 't' is a cross-encoder"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "mine": {"model": "nope"}}},
     {}, r"train\.mine\.model: 'nope' is not a model of this config"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "mine": {"model": "ce"}}},
     {}, r"train\.mine\.model: 'ce' is a cross-encoder; mining needs a bi-encoder"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "mine": {"model": "t"}}},
     {}, r"train\.mine\.model: 't' is itself trained"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini",
                                                   "mine": {"range_min": 5, "range_max": 5}}},
     {}, r"train\.mine: range_min 5 must be below range_max 5"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "mine": {
        "range_min": 5, "range_max": 8, "num_negatives": 4}}},
     {}, r"train\.mine: num_negatives 4 do not fit in the 3 ranks"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini",
                                                   "mine": {"sampling": "best"}}},
     {}, r"sampling"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini"}},
     {"protocol": "catalogue", "sampling": {"folds": 3}}, r"sampling\.folds: the catalogue"),
    ({"name": "t", "kind": "bi-encoder", "train": {"base": "mini"}},
     {"sampling": {"folds": 3}, "seeds": [0, 1, 5]}, r"seeds: .*\[5\] is not a fold"),
])
def test_bad_training_configs_stop(model, top, message):
    config = config_with(model, {"name": "ce", "kind": "cross-encoder", "path": "some/ce"})
    for key, value in top.items():
        config[key] = {**config[key], **value} if isinstance(value, dict) and key in config \
            else value
    with pytest.raises(ShopbenchError, match=message):
        validate(config)


def test_folded_model_path_has_the_seed():
    config = validate(config_with({"name": "t", "kind": "bi-encoder", "train": {"base": "mini"}},
                                  sampling={"folds": 3}, seeds=[0, 1, 2]))
    assert config["models"][1]["path"] == "results/train/seed{seed}/models/t"


def test_mine_settings_are_filled_in_only_when_mine_is_set():
    def got(**train):
        return T.settings({"name": "t", "kind": "bi-encoder", "train": {"base": "x", **train}},
                          ["x"])

    assert "mine" not in got()  # the settings of a config without mine (a param) unchanged
    assert got(mine={})["mine"] == T.MINE_DEFAULTS == {
        "model": None, "range_min": 0, "range_max": 50, "num_negatives": 1,
        "relative_margin": 0.05, "sampling": "top"}
    mine = got(mine={"model": "mini", "relative_margin": None, "num_negatives": 2})["mine"]
    assert (mine["model"], mine["relative_margin"], mine["num_negatives"]) == ("mini", None, 2)
    config = validate(config_with({"name": "t", "kind": "bi-encoder",
                                   "train": {"base": "mini", "mine": {"model": "mini"}}}))
    assert config["models"][1]["train"]["mine"]["model"] == "mini"


# --- folds and leakage -------------------------------------------------------------------------

def test_folds_are_disjoint_cover_every_query_and_keep_one_text_together():
    ex = D.read_examples(EXAMPLES)
    filtered = D.filter_examples(ex, "us", ["E"])
    dup = filtered[filtered["query_id"] == filtered["query_id"].iloc[0]].copy()
    dup["query_id"] = 999_999  # a second id of the same text, upper-cased
    dup["query"] = dup["query"].str.upper() + "  "
    data = pd.concat([filtered, dup])
    folds = T.fold_queries(data, 3, 42)
    ids = np.concatenate(folds)
    assert len(ids) == len(set(ids)) == data["query_id"].nunique()
    assert max(map(len, folds)) - min(map(len, folds)) <= 2
    home = [f for f, part in enumerate(folds) if filtered["query_id"].iloc[0] in part]
    assert home == [f for f, part in enumerate(folds) if 999_999 in part]
    assert [list(f) for f in T.fold_queries(data, 3, 42)] == [list(f) for f in folds]
    assert [list(f) for f in T.fold_queries(data, 3, 7)] != [list(f) for f in folds]
    with pytest.raises(ShopbenchError, match="only 3 distinct queries"):
        T.fold_queries(data[data["query_id"].isin(ids[:3])], 5, 0)


def test_overlap_counts_ids_and_normalized_texts():
    train = pd.DataFrame({"qid": [1, 2, 3], "query": ["Red Shoes", "blue  hat", "c"]})
    evaluated = pd.DataFrame({"qid": [3, 10, 11, 12],
                              "query": ["x", "red shoes", "BLUE hat ", "green"]})
    assert T.overlap(train, evaluated) == {"ids": 1, "texts": 2, "queries": 3}
    with pytest.raises(ShopbenchError, match=r"3 of the 4 evaluated queries are also training "
                                             r"queries \(1 by query id, 2 by normalized text\)"):
        T.check_leakage(train, evaluated, "m")
    T.check_leakage(train, evaluated[evaluated["qid"] == 12], "m")


def _queries_file(path: Path, frame: pd.DataFrame) -> str:
    frame[["qid", "query"]].to_csv(path, sep="\t", index=False)
    return str(path)


def test_training_on_an_evaluated_query_stops_before_writing(tmp_path):
    ex = D.read_examples(EXAMPLES)
    evaluated = ex[ex["split"] == "train"].drop_duplicates("query_id").head(4)
    evaluated = evaluated.rename(columns={"query_id": "qid"})
    queries = _queries_file(tmp_path / "queries.tsv", evaluated)
    cfg = T.settings({"name": "t", "kind": "bi-encoder", "train": {"base": "x",
                                                                   "split": "train"}},
                     ["product_title"])
    out, curve = tmp_path / "models" / "t", tmp_path / "curve.png"
    with pytest.raises(ShopbenchError, match=r"model 't': 4 of the 4 evaluated queries are "
                                             r"also training queries \(4 by query id"):
        train_step(EXAMPLES, PRODUCTS, str(out), str(curve), evaluated=[queries], model="t",
                   kind="bi-encoder", base_path="x", settings=cfg)
    assert not out.exists() and not curve.exists() and not (tmp_path / "models").exists()


def test_parse_time_check_finds_the_sampled_queries_among_the_training_ones():
    model = {"name": "t", "kind": "bi-encoder", "train": {"base": "mini", "split": "all"}}
    config = validate(config_with(model))  # evaluates 10 test-split queries
    with pytest.raises(ShopbenchError, match=r"model 't': 10 of the 10 evaluated queries are "
                                             r"also training queries \(10 by query id"):
        T.check_config_leakage(config)
    config["models"][1]["train"]["split"] = "train"  # the official setting: disjoint
    T.check_config_leakage(config)
    folded = validate(config_with(model, sampling={"locale": "us", "folds": 2}, seeds=[0, 1]))
    T.check_config_leakage(folded)  # folds leave the held-out fold out: nothing to stop


def test_folds_leave_the_held_out_queries_out_of_training():
    ex = D.read_examples(EXAMPLES)
    held = ex.drop_duplicates("query_id").head(5).rename(columns={"query_id": "qid"})
    cfg = T.settings({"name": "t", "kind": "bi-encoder", "train": {"base": "x"}}, ["x"])
    rows = T.training_judgments(ex, cfg, "us", held[["qid", "query"]])
    assert not set(rows["query_id"]) & set(held["qid"])
    assert rows["query_id"].nunique() == ex["query_id"].nunique() - 5
    T.check_leakage(rows.rename(columns={"query_id": "qid"}), held, "t")


def test_dev_queries_are_drawn_as_sklearns_train_test_split():
    ids = np.array([50, 10, 40, 20, 30, 70, 60, 90, 80, 11, 12])
    rows = pd.DataFrame({"query_id": np.repeat(ids, 2), "x": range(22)})
    train, dev = T.split_dev(rows, 4, 42)
    # sklearn.model_selection.train_test_split(ids, test_size=4 / 11, random_state=42)[1],
    # written out: ShuffleSplit takes the first ceil(4 / 11 * 11) = 4 of
    # RandomState(42).permutation(11) = [5, 0, 9, 10, 2, 1, 8, 4, 7, 3, 6]
    assert list(np.random.RandomState(42).permutation(11)[:4]) == [5, 0, 9, 10]
    assert sorted(dev["query_id"].unique()) == sorted(ids[[5, 0, 9, 10]])
    assert not set(train["query_id"]) & set(dev["query_id"]) and len(train) + len(dev) == 22
    with pytest.raises(ShopbenchError, match="dev_queries: 11 dev queries leave none"):
        T.split_dev(rows, 11, 42)


# --- training pairs ----------------------------------------------------------------------------

ROWS = pd.DataFrame({
    "query_id": [1, 1, 1, 2, 2, 3],
    "query": ["a", "a", "a", "b", "b", "c"],
    "esci_label": ["E", "S", "I", "E", "E", "E"],
    "text": ["a-e", "a-s", "a-i", "b-e1", "b-e2", "c-e"],
})


def test_bi_encoder_pairs_have_a_hard_negative_of_the_same_query():
    cfg = T.settings({"name": "t", "kind": "bi-encoder", "train": {"base": "x"}}, ["x"])
    cols = T.pairs(ROWS, "bi-encoder", cfg, "query: ", "passage: ")
    assert cols["anchor"] == ["query: a", "query: b", "query: b", "query: c"]
    assert cols["positive"] == ["passage: a-e", "passage: b-e1", "passage: b-e2", "passage: c-e"]
    assert cols["negative"][0] in ("passage: a-s", "passage: a-i")
    for neg, q in zip(cols["negative"][1:], "bbc"):  # no S/C/I: another query's product
        assert not neg.startswith(f"passage: {q}-")
    cfg["hard_negatives"] = []
    assert "negative" not in T.pairs(ROWS, "bi-encoder", cfg)


def test_cross_encoder_targets_are_the_gains_or_binary():
    cfg = T.settings({"name": "t", "kind": "cross-encoder", "train": {"base": "x"}}, ["x"])
    cols = T.pairs(ROWS, "cross-encoder", cfg)
    assert cols["label"] == [1.0, 0.1, 0.0, 1.0, 1.0, 1.0]
    assert cols["query"] == ROWS["query"].tolist() and cols["text"] == ROWS["text"].tolist()
    cfg["loss"] = "bce"
    assert T.pairs(ROWS, "cross-encoder", cfg)["label"] == [1, 0, 0, 1, 1, 1]


def test_list_size_is_a_setting_of_the_listwise_losses_only():
    def got(**train):
        return T.settings({"name": "t", "kind": "cross-encoder",
                           "train": {"base": "x", **train}}, ["x"])

    assert "list_size" not in got() and "list_size" not in got(loss="bce")  # params unchanged
    assert got(loss="lambda")["list_size"] == T.LIST_SIZE == 16
    assert got(loss="listnet", list_size=4)["list_size"] == 4


def test_listwise_examples_are_one_list_per_query_cut_with_the_seed():
    rows = pd.DataFrame({
        "query_id": [7, 7, 7, 7, 7, 2, 2, 9],
        "query": ["a"] * 5 + ["b", "b", "c"],
        "esci_label": ["E", "S", "C", "I", "E", "I", "E", "S"],
        "text": ["a1", "a2", "a3", "a4", "a5", "b1", "b2", "c1"],
    })
    cfg = T.settings({"name": "t", "kind": "cross-encoder",
                      "train": {"base": "x", "loss": "lambda"}}, ["x"])
    cols = T.pairs(rows, "cross-encoder", cfg)
    # every judgment, grouped by query in order of first appearance, the gains as labels
    assert cols == {"query": ["a", "b", "c"],
                    "docs": [["a1", "a2", "a3", "a4", "a5"], ["b1", "b2"], ["c1"]],
                    "label": [[1.0, 0.1, 0.01, 0.0, 1.0], [0.0, 1.0], [0.1]]}
    assert T.count_pairs(cols) == 8
    cfg["list_size"] = 2
    cut = T.pairs(rows, "cross-encoder", cfg)
    # query a: 2 of its 5, drawn with RandomState(seed), kept in file order; b and c whole
    pick = np.sort(np.random.RandomState(cfg["seed"]).choice(np.arange(5), 2, replace=False))
    assert cut["docs"] == [[f"a{i + 1}" for i in pick], ["b1", "b2"], ["c1"]]
    assert cut["label"][0] == [[1.0, 0.1, 0.01, 0.0, 1.0][i] for i in pick]
    assert T.pairs(rows, "cross-encoder", cfg) == cut  # the same seed, the same lists
    cfg["seed"] = 1
    assert T.pairs(rows, "cross-encoder", cfg)["docs"][1:] == [["b1", "b2"], ["c1"]]


# --- hard negatives mined with a bi-encoder ----------------------------------------------------

#: Two query ids share the text "a": the library groups their positives (a-e1, a-e2, x-e).
MINE_ROWS = pd.DataFrame({
    "query_id": [1, 1, 1, 1, 2, 2, 2, 3],
    "query": ["a", "a", "a", "a", "b", "b", "b", "a"],
    "esci_label": ["E", "E", "S", "I", "E", "C", "I", "E"],
    "text": ["a-e1", "a-e2", "a-s", "a-i", "b-e", "b-c", "b-i", "x-e"],
})


def _mine_cfg(**mine):
    return T.settings({"name": "t", "kind": "bi-encoder",
                       "train": {"base": "x", "max_length": 16,
                                 "mine": {"relative_margin": None, **mine}}}, ["x"])


def test_mined_negatives_are_never_a_positive_of_the_same_query(tiny_models):
    base = str(tiny_models["bi"])
    # the window holds the whole corpus of 8 products: every allowed product is mined, so the
    # sets are known whatever the random model's similarities
    mined, facts = T.mine_negatives(MINE_ROWS, _mine_cfg(range_max=8, num_negatives=8), base)
    assert set(mined) == {"a", "b"}
    assert set(mined["a"]) == {"a-s", "a-i", "b-e", "b-c", "b-i"}  # not a-e1, a-e2, x-e
    assert set(mined["b"]) == {"a-e1", "a-e2", "a-s", "a-i", "b-c", "b-i", "x-e"}  # not b-e
    assert facts["corpus_products"] == 8 and facts["queries"] == 2 and facts["negatives"] == 12
    assert facts["model"]["weights_sha256"] == hashlib.sha256(
        (tiny_models["bi"] / "model.safetensors").read_bytes()).hexdigest()
    # hard_negatives [I]: the query's S and C products are neither positives nor negatives
    cfg = _mine_cfg(range_max=8, num_negatives=8)
    cfg["hard_negatives"] = ["I"]
    mined, _ = T.mine_negatives(MINE_ROWS, cfg, base)
    assert set(mined["a"]) == {"a-i", "b-e", "b-c", "b-i"}
    assert set(mined["b"]) == {"a-e1", "a-e2", "a-s", "a-i", "b-i", "x-e"}
    # top: the first num_negatives of the full order, which is the similarity order
    full, _ = T.mine_negatives(MINE_ROWS, _mine_cfg(range_max=8, num_negatives=8), base)
    top2, _ = T.mine_negatives(MINE_ROWS, _mine_cfg(range_max=8, num_negatives=2), base)
    assert top2 == {q: negs[:2] for q, negs in full.items()}


def test_mining_twice_gives_the_same_negatives(tiny_models):
    for sampling in ("top", "random"):
        cfg = _mine_cfg(range_max=6, num_negatives=2, sampling=sampling)
        one, _ = T.mine_negatives(MINE_ROWS, cfg, str(tiny_models["bi"]))
        two, _ = T.mine_negatives(MINE_ROWS, cfg, str(tiny_models["bi"]))
        assert one == two and all(len(v) == 2 for v in one.values())
    other, _ = T.mine_negatives(MINE_ROWS, _mine_cfg(range_max=8, num_negatives=8),
                                str(tiny_models["bi2"]))
    assert set(other["a"]) == {"a-s", "a-i", "b-e", "b-c", "b-i"}


def test_pairs_take_the_mined_negatives_and_draw_what_is_missing():
    cfg = _mine_cfg(num_negatives=2)
    mined = {"a": ["b-c", "a-i"], "b": ["a-s"]}
    cols = T.pairs(MINE_ROWS, "bi-encoder", cfg, "q: ", "p: ", mined)
    assert cols["anchor"] == ["q: a", "q: a", "q: b", "q: a"]
    assert cols["negative_1"] == ["p: b-c", "p: b-c", "p: a-s", "p: b-c"]
    assert cols["negative_2"][:2] + cols["negative_2"][3:] == ["p: a-i"] * 3
    assert cols["negative_2"][2] in ("p: b-c", "p: b-i")  # b: drawn from its own S/C/I
    assert T.mined_count(MINE_ROWS, cfg, mined) == 7
    one = T.pairs(MINE_ROWS, "bi-encoder", _mine_cfg(), "", "", mined)
    assert one["negative"] == ["b-c", "b-c", "a-s", "b-c"] and "negative_1" not in one


# --- real training of tiny models --------------------------------------------------------------

def _train(tmp_path, tiny_models, kind, name, **train):
    base = str(tiny_models["bi" if kind == "bi-encoder" else "cross"])
    cfg = T.settings({"name": name, "kind": kind,
                      "train": {"base": base, "split": "train", "n_queries": 8,
                                "max_length": 32, "batch_size": 8, **train}}, ["product_title"])
    ex = D.read_examples(EXAMPLES)
    evaluated = ex[ex["split"] == "test"].drop_duplicates("query_id").head(5)
    queries = _queries_file(tmp_path / f"{name}.queries.tsv",
                            evaluated.rename(columns={"query_id": "qid"}))
    out, curve = tmp_path / "models" / name, tmp_path / f"{name}.png"
    train_step(EXAMPLES, PRODUCTS, str(out), str(curve), evaluated=[queries], model=name,
               kind=kind, base_path=base, settings=cfg, threads=1)
    return out, curve


def _digest(folder: Path) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def test_bi_encoder_trains_deterministically_and_encode_loads_it(tmp_path, tiny_models):
    from shopbench import models as M

    one, curve = _train(tmp_path, tiny_models, "bi-encoder", "one")
    two, _ = _train(tmp_path, tiny_models, "bi-encoder", "two")
    assert _digest(one) == _digest(two)  # CPU, one seed: the same weights
    assert _digest(one) != hashlib.sha256(
        (tiny_models["bi"] / "model.safetensors").read_bytes()).hexdigest()
    assert curve.stat().st_size > 0 and not (one / "README.md").exists()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((one / "model.safetensors").stat().st_mode) == 0o666 & ~umask
    record = __import__("json").loads((one / "training.json").read_text())
    assert record["settings"]["learning_rate"] == 2e-5 and record["data"]["training_queries"] == 8
    assert record["base"]["weights_sha256"] and len(record["data"]["training_pairs_sha256"]) == 64
    loss = pd.read_csv(one / "loss.tsv", sep="\t")
    assert len(loss) == record["run"]["steps"] and np.isfinite(loss["loss"]).all()
    model = M.load_bi_encoder(str(one), "one")
    assert model.encode(["red shoes"]).shape == (1, 32)
    other = _train(tmp_path, tiny_models, "bi-encoder", "lr", learning_rate=1e-3)[0]
    assert _digest(other) != _digest(one)


def test_bi_encoder_trains_on_mined_negatives_and_records_them(tmp_path, tiny_models, caplog):
    import logging

    from shopbench import models as M

    mine = {"range_max": 10, "num_negatives": 2, "relative_margin": None}
    with caplog.at_level(logging.INFO, logger="shopbench"):
        one, _ = _train(tmp_path, tiny_models, "bi-encoder", "mined", mine=mine)
    assert "train mined: mining 2 hard negative(s) per query with" in caplog.text
    assert "ranks 0-10, relative margin None, top, among" in caplog.text
    assert "train mined: mined 16 negatives for 8 of 8 queries in" in caplog.text
    two, _ = _train(tmp_path, tiny_models, "bi-encoder", "mined2", mine=mine)
    plain, _ = _train(tmp_path, tiny_models, "bi-encoder", "plain")
    assert _digest(one) == _digest(two) and _digest(one) != _digest(plain)
    record = __import__("json").loads((one / "training.json").read_text())
    mining = record["mining"]
    assert mining["settings"] == {**T.MINE_DEFAULTS, **mine}
    assert mining["model"]["weights_sha256"] == record["base"]["weights_sha256"]
    assert mining["name"] is None and mining["queries"] == 8 and mining["negatives"] == 16
    assert mining["pair_negatives_mined"] + mining["pair_negatives_drawn"] == \
        2 * record["data"]["training_pairs"]
    assert M.load_bi_encoder(str(one), "mined").encode(["red shoes"]).shape == (1, 32)
    # another bi-encoder of the config mines: its folder and name are recorded
    other = tiny_models["bi2"]
    cfg = T.settings({"name": "o", "kind": "bi-encoder", "train": {
        "base": str(tiny_models["bi"]), "split": "train", "n_queries": 8, "max_length": 32,
        "batch_size": 8, "mine": {**mine, "model": "bi2"}}}, ["product_title"])
    queries = _queries_file(tmp_path / "o.tsv", pd.DataFrame({"qid": [1], "query": ["zz"]}))
    out = tmp_path / "models" / "o"
    by = {"name": "bi2", "path": str(other), "query_prefix": "", "document_prefix": ""}
    train_step(EXAMPLES, PRODUCTS, str(out), str(tmp_path / "o.png"), evaluated=[queries],
               model="o", kind="bi-encoder", base_path=str(tiny_models["bi"]),
               settings={**cfg, "mine": {**cfg["mine"], "by": by}}, mine_weights=str(other))
    record = __import__("json").loads((out / "training.json").read_text())
    assert "by" not in record["settings"]["mine"]
    mining = record["mining"]
    assert mining["name"] == "bi2" and mining["model"]["weights_sha256"] == hashlib.sha256(
        (other / "model.safetensors").read_bytes()).hexdigest()


def test_cross_encoder_trains_and_rerank_loads_it(tmp_path, tiny_models):
    from shopbench import models as M

    out, _ = _train(tmp_path, tiny_models, "cross-encoder", "ce", dev_queries=2)
    record = __import__("json").loads((out / "training.json").read_text())
    assert record["data"]["dev_queries"] == 2 and record["run"]["dev_loss"] is not None
    ce = M.load_cross_encoder(str(out), "ce")
    assert len(ce.predict([("red shoes", "a red shoe")])) == 1


@pytest.mark.parametrize("loss", ["lambda", "listnet"])
def test_listwise_cross_encoder_trains_and_rerank_loads_it(tmp_path, tiny_models, loss, caplog):
    import logging

    from shopbench import models as M

    with caplog.at_level(logging.INFO, logger="shopbench"):
        out, _ = _train(tmp_path, tiny_models, "cross-encoder", loss, loss=loss, list_size=4,
                        batch_size=2, dev_queries=2)
    assert "in 6 lists of at most 4" in caplog.text and "3 steps of 2 lists (" in caplog.text
    record = __import__("json").loads((out / "training.json").read_text())
    # 8 queries drawn, 2 held out as dev: 6 lists of at most 4 products, 3 steps of 2 lists
    assert record["settings"]["list_size"] == 4 and record["data"]["training_lists"] == 6
    assert 6 <= record["data"]["training_pairs"] <= 24 and record["run"]["steps"] == 3
    assert record["run"]["dev_loss"] is not None
    assert np.isfinite(pd.read_csv(out / "loss.tsv", sep="\t")["loss"]).all()
    assert _digest(out) != hashlib.sha256(
        (tiny_models["cross"] / "model.safetensors").read_bytes()).hexdigest()
    ce = M.load_cross_encoder(str(out), loss)
    assert len(ce.predict([("red shoes", "a red shoe"), ("red shoes", "a hat")])) == 2
