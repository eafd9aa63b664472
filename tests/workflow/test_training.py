"""Training as a stage of the workflow, end to end on the demo data with tiny random models:
trained folders feed encode and rerank; a learning-rate change reruns training and what depends
on it, nothing else; a config training on evaluated queries stops before writing a model; folds
evaluate each fold with a model trained without it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml

from workflow_runner import DEMO, REPO, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow


def training_config(tiny_models, name="training", **overrides) -> dict:
    config = {
        "name": name,
        "data": {"examples": str(DEMO / "shopping_queries_dataset_examples.parquet"),
                 "products": str(DEMO / "shopping_queries_dataset_products.parquet")},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": 8, "n_rows": 200,
                     "split": "test"},
        "protocol": "judged-pool",
        "seeds": [1],
        "model_threads": 1,
        "models": [
            {"name": "tiny", "kind": "bi-encoder", "path": str(tiny_models["bi"])},
            {"name": "tiny-ft", "kind": "bi-encoder",
             "train": {"base": "tiny", "split": "train", "n_queries": 10, "max_length": 32,
                       "batch_size": 8}},
            {"name": "ce-ft", "kind": "cross-encoder", "max_length": 32,
             "train": {"base": str(tiny_models["cross"]), "split": "train", "n_queries": 6,
                       "max_length": 32, "batch_size": 8}},
        ],
        "approaches": [
            {"name": "dense", "type": "dense", "model": "tiny"},
            {"name": "dense-ft", "type": "dense", "model": "tiny-ft"},
            {"name": "bm25", "type": "bm25"},
            {"name": "rerank-ft", "type": "rerank", "model": "ce-ft", "run": "bm25",
             "depth": 10},
        ],
        "evaluation": {"baseline": "dense", "bootstrap": 100, "permutations": 100},
    }
    config.update(overrides)
    return config


def test_trained_models_feed_encode_and_rerank_and_a_new_lr_reruns_only_them(tmp_path,
                                                                            tiny_models):
    config = training_config(tiny_models)
    path = write_config(tmp_path, config)
    snakemake(tmp_path, path, "--cores", "2")
    out = tmp_path / "results" / "training"
    summary = pd.read_csv(out / "summary.csv")
    assert {"dense-ft", "rerank-ft"} <= set(summary["approach"])
    for model in ("tiny-ft", "ce-ft"):
        assert (out / "models" / model / "model.safetensors").exists()
        assert (out / "plots" / "training" / f"{model}.png").exists()
        log = (out / "logs" / f"train_{model}.log").read_text()
        assert "step 1/" in log and "pairs/s" in log and "left" in log
    assert (out / "embeddings" / "tiny-ft.npy").exists() is False  # per corpus, not here
    assert (out / "seed1" / "embeddings" / "tiny-ft.npy").exists()
    assert planned_jobs(tmp_path, path) == set()

    config["models"][1]["train"]["learning_rate"] = 1e-3
    jobs = planned_jobs(tmp_path, write_config(tmp_path, config))
    rules = {rule for rule, _ in jobs}
    assert ("train", "model=tiny-ft") in jobs
    assert not any(rule == "train" and "ce-ft" in wc for rule, wc in jobs)
    assert {wc for rule, wc in jobs if rule in ("encode_products", "index")} == \
        {"corpus=seed1, model=tiny-ft"}
    assert {wc for rule, wc in jobs if rule == "evaluate"} == {"seed=1, approach=dense-ft"}
    assert not rules & {"sample", "corpus", "bm25_index", "bm25", "rerank"}
    assert rules <= {"train", "encode_products", "encode_queries", "index", "dense",
                     "evaluate", "aggregate", "latency", "tables", "plots", "provenance"}

    # negatives mined with another model of the config: its name and folder reach the job
    config["models"][1]["train"]["learning_rate"] = 2e-5
    config["models"][1]["train"]["mine"] = {"model": "tiny", "relative_margin": None}
    path = write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path, path)
    assert ("train", "model=tiny-ft") in jobs
    assert not any(rule == "train" and "ce-ft" in wc for rule, wc in jobs)
    snakemake(tmp_path, path, "--cores", "2", "results/training/models/tiny-ft")
    record = json.loads((out / "models" / "tiny-ft" / "training.json").read_text())
    assert record["mining"]["name"] == "tiny"
    assert record["mining"]["model"]["weights_sha256"] == record["base"]["weights_sha256"]
    assert "by" not in record["settings"]["mine"]


def test_training_on_evaluated_queries_stops_at_parse_time(tmp_path, tiny_models):
    config = training_config(tiny_models, name="leak")
    config["models"] = config["models"][:2]
    config["models"][1]["train"]["split"] = "all"  # the test queries are train queries too
    config["models"][1]["train"].pop("n_queries")
    config["approaches"] = [{"name": "dense-ft", "type": "dense", "model": "tiny-ft"}]
    config["evaluation"] = {}
    proc = snakemake(tmp_path, write_config(tmp_path, config), "-n", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "ERROR shopbench: model" in text  # at parse time
    assert "model 'tiny-ft': 8 of the 8 evaluated queries are also training queries" in text
    assert not (tmp_path / "results" / "leak" / "models" / "tiny-ft").exists()


def test_folds_train_without_the_held_out_fold(tmp_path, tiny_models):
    config = training_config(tiny_models, name="folds", seeds=[0, 1])
    config["sampling"] = {"locale": "us", "labels": ["E"], "folds": 2}
    config["models"] = config["models"][:2]
    config["models"][1]["train"] = {"base": "tiny", "max_length": 32, "batch_size": 16,
                                    "epochs": 0.25}
    config["approaches"] = config["approaches"][:2]
    snakemake(tmp_path, write_config(tmp_path, config), "--cores", "2")
    out = tmp_path / "results" / "folds"
    folds = [pd.read_csv(out / f"seed{s}" / "queries.tsv", sep="\t") for s in (0, 1)]
    assert not set(folds[0]["qid"]) & set(folds[1]["qid"])
    assert len(folds[0]) + len(folds[1]) == 100  # every demo query is evaluated once
    for seed in (0, 1):
        record = json.loads((out / f"seed{seed}" / "models" / "tiny-ft" /
                             "training.json").read_text())
        assert record["data"]["held_out_queries"] == len(folds[seed])
        assert record["data"]["training_queries"] == 100 - len(folds[seed])
    per_query = pd.read_csv(out / "per_query.csv")
    assert per_query.groupby("approach")["qid"].nunique().to_dict() == \
        {"dense": 100, "dense-ft": 100}


def test_train_jobs_ask_the_cluster_for_a_gpu_and_the_profiles_memory(tmp_path, tiny_models):
    """Under device: cuda and the SLURM profile, each train job asks for one GPU (the plugin's
    --gpus), its threads as cpus_per_task, and the profile's train memory and runtime."""
    config = training_config(tiny_models, device="cuda")
    out = snakemake(tmp_path, write_config(tmp_path, config), "-n", "--profile",
                    str(REPO / "profiles/slurm"))
    text = out.stdout + out.stderr
    blocks = [b for b in re.split(r"\n(?=(?:local)?rule \S+:)", text)
              if re.match(r"(?:local)?rule train:", b)]
    assert len(blocks) == 2  # tiny-ft and ce-ft
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    train = profile["set-resources"]["train"]
    for block in blocks:
        resources = re.search(r"resources: (.*)", block)[1]
        assert "gpu=1" in resources and "cpus_per_task=" in resources
        assert f"mem_mb={train['mem_mb']}" in resources
        assert f"runtime={train['runtime']}" in resources
