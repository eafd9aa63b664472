"""End to end: late-rerank and late-interaction (exact and IVF) approaches on the demo
catalogue with tiny PyLate- and Stanford-format checkpoints; shards: 2 gives the same token
files and runs as shards: 1."""

from __future__ import annotations

import pandas as pd
import pytest

from workflow_runner import demo_config, snakemake, write_config

pytestmark = pytest.mark.slow
LATE = ["late-rerank", "late-exact", "late-ivf", "late-st"]


def _config(name, tiny_models, tiny_late_models, **overrides):
    config = demo_config(name, tiny_models, **overrides)
    config.update(
        models=[{"name": "pl", "kind": "late-interaction", "path": str(tiny_late_models["pylate"])},
                {"name": "st", "kind": "late-interaction",
                 "path": str(tiny_late_models["stanford"]), "max_length": 64}],
        approaches=[
            {"name": "bm25", "type": "bm25"},
            {"name": "late-rerank", "type": "late-rerank", "model": "pl", "run": "bm25",
             "depth": 10},
            {"name": "late-exact", "type": "late-interaction", "model": "pl", "k": 20},
            {"name": "late-ivf", "type": "late-interaction", "model": "pl", "k": 20,
             "search": "ivf", "nlist": 4, "nprobe": 4, "token_k": 100000},
            {"name": "late-st", "type": "late-interaction", "model": "st", "k": 20}])
    return config


@pytest.fixture(scope="module")
def late_runs(tmp_path_factory, tiny_models, tiny_late_models):
    out = {}
    for shards in (1, 2):
        work = tmp_path_factory.mktemp(f"late{shards}")
        cfg = write_config(work, _config("late", tiny_models, tiny_late_models, shards=shards))
        # shards: 2 makes only the runs (the token files and what reads them)
        targets = [] if shards == 1 else [f"results/late/seed1/runs/{a}.tsv" for a in LATE]
        snakemake(work, cfg, "--cores", "2", *targets)
        out[shards] = work / "results" / "late"
    return out


def _run(folder, approach):
    return pd.read_csv(folder / "seed1" / "runs" / f"{approach}.tsv", sep=" ", header=None,
                       names=["qid", "q0", "docid", "rank", "score", "tag"])


def test_late_approaches_run_and_are_evaluated(late_runs):
    res = late_runs[1]
    qids = set(pd.read_csv(res / "seed1" / "queries.tsv", sep="\t")["qid"])
    bm25 = _run(res, "bm25")
    for approach in LATE:
        run = _run(res, approach)
        assert set(run["qid"]) <= qids and len(set(run["qid"])) >= len(set(bm25["qid"]))
        for _, group in run.groupby("qid"):
            assert group["score"].is_monotonic_decreasing
    rerank = _run(res, "late-rerank")
    for qid, group in rerank.groupby("qid"):
        assert set(group["docid"]) == set(bm25[bm25["qid"] == qid].head(10)["docid"])
    # visiting every list with every token as a neighbour, IVF equals exact MaxSim
    pd.testing.assert_frame_equal(_run(res, "late-exact").drop(columns="tag"),
                                  _run(res, "late-ivf").drop(columns="tag"))
    metrics = pd.read_csv(res / "metrics.csv")
    assert set(LATE) <= set(metrics["approach"])
    latency = pd.read_csv(res / "latency.csv")
    assert set(LATE) <= set(latency["approach"])
    assert (res / "seed1" / "tokens" / "pl.npy").is_file()
    assert (res / "seed1" / "token_index" / "late-ivf.faiss").is_file()


def test_sharded_token_files_give_the_same_runs(late_runs):
    for name in ("pl.npy", "pl.lengths.npy", "st.npy"):
        assert ((late_runs[1] / "seed1" / "tokens" / name).read_bytes()
                == (late_runs[2] / "seed1" / "tokens" / name).read_bytes()), name
    for approach in LATE:
        assert ((late_runs[1] / "seed1" / "runs" / f"{approach}.tsv").read_text()
                == (late_runs[2] / "seed1" / "runs" / f"{approach}.tsv").read_text()), approach
