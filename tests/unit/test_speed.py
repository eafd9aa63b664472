"""Speed settings: batch_size auto, precision (int8, bf16), critical-path priorities, and the
progress of encode and rerank jobs."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import yaml

from shopbench import config as C
from shopbench import models, shards, steps, trec
from shopbench.errors import ShopbenchError
from shopbench.progress import Progress, format_seconds


# -- progress -------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def progress_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "shopbench"]


def test_progress_reports_at_a_steady_pace(caplog):
    caplog.set_level(logging.INFO, logger="shopbench")
    clock = FakeClock()
    progress = Progress(1000, "encode minilm", "products", every=10, clock=clock)
    for _ in range(9):  # 9 batches of 20 in 1 s each: under 10 s, no line
        clock.now += 1
        progress.update(20)
    assert progress_lines(caplog) == ["encode minilm: 1,000 products to do"]
    clock.now += 1  # 10 s since the start: a line, with the rate and time left since the start
    progress.update(20)
    assert progress_lines(caplog)[-1] == \
        "encode minilm: 200/1,000 products (20.0%), 20.0 products/s, 0:40 left"
    clock.now += 5  # 5 s after the last line: none
    progress.update(20)
    assert len(progress_lines(caplog)) == 2
    clock.now += 5
    progress.update(20)
    assert progress_lines(caplog)[-1] == \
        "encode minilm: 240/1,000 products (24.0%), 12.0 products/s, 1:03 left"
    clock.now += 100
    progress.update(760)  # done: no progress line, the final one instead
    progress.finish()
    lines = progress_lines(caplog)
    assert len(lines) == 4
    assert lines[-1] == "encode minilm: 1,000 products done in 2:00 (8.3 products/s)"


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 59.6, 61, 3600, 3725)] == \
        ["0:00", "1:00", "1:01", "1:00:00", "1:02:05"]


def _corpus(folder, n: int):
    texts = [f"red shoe number {i} " * (1 + i % 5) for i in range(n)]
    docids = [f"D{i:03d}" for i in range(n)]
    pd.DataFrame({"docid": docids, "title": texts, "text": texts}).to_parquet(
        folder / "corpus.parquet")
    return docids


def test_encode_shard_reports_its_batches(tmp_path, tiny_models, caplog):
    """A shard encodes and reports only its own batches of the plan: 21 texts in batches of
    8 are batches 0-2 (8, 8, 5); shard 1 of 2 holds batches 1-2, 13 texts; shard 0 of 4 none
    (shard_bounds(3, 0, 4) is empty)."""
    caplog.set_level(logging.INFO, logger="shopbench")
    _corpus(tmp_path, 21)
    opts = dict(corpus=str(tmp_path / "corpus.parquet"), path=str(tiny_models["bi"]),
                model="bi", document_prefix="", batch_size=8, max_length=32, device="cpu")
    steps.encode_products(shard=1, shards=2, part_out=str(tmp_path / "p1.npz"), **opts)
    lines = progress_lines(caplog)
    assert "encoding 13 of 21 products (batches 1-2 of 3), float32" in lines
    assert "encode bi: 13 products to do" in lines
    assert any(line.startswith("encode bi: 13 products done in ") for line in lines)
    part = shards.load_part(str(tmp_path / "p1.npz"))
    plan = shards.batch_plan(pd.read_parquet(tmp_path / "corpus.parquet")["text"].str.len(), 8)
    assert part["rows"].tolist() == np.concatenate(plan[1:]).tolist()
    assert part["embeddings"].shape == (13, 32)
    caplog.clear()
    steps.encode_products(shard=0, shards=4, part_out=str(tmp_path / "p0.npz"), **opts)
    assert "shard 0 of 4 is empty: 3 batches for 4 shards" in progress_lines(caplog)
    assert shards.load_part(str(tmp_path / "p0.npz"))["rows"].tolist() == []


def test_encode_and_rerank_jobs_log_progress(tmp_path, tiny_models, caplog):
    """The steps log the work to do, and when done the count, time and rate."""
    caplog.set_level(logging.INFO, logger="shopbench")
    docids = _corpus(tmp_path, 30)
    queries = pd.DataFrame({"qid": [1, 2, 3], "query": ["red shoe", "shoe 4", "number 7"]})
    trec.write_tsv(queries, tmp_path / "queries.tsv")
    steps.encode_products(corpus=str(tmp_path / "corpus.parquet"), path=str(tiny_models["bi"]),
                          model="bi", document_prefix="", batch_size="auto", max_length=32,
                          device="cpu", embeddings_out=str(tmp_path / "e.npy"))
    lines = progress_lines(caplog)
    assert "encode bi: 30 products to do" in lines
    assert any(line.startswith("encode bi: 30 products done in ") for line in lines)
    assert f"bi: batch size {models.AUTO_BATCH_SIZE['cpu']}, fp32, 1 torch thread(s)" in lines
    steps.encode_queries(queries=str(tmp_path / "queries.tsv"),
                         embeddings_out=str(tmp_path / "q.npy"),
                         seconds_out=str(tmp_path / "s.tsv"), path=str(tiny_models["bi"]),
                         model="bi", query_prefix="", max_length=32, device="cpu")
    assert any(line.startswith("encoded 3 queries one at a time: median ")
               for line in progress_lines(caplog))
    run = trec.run_frame([1, 2, 3], [docids[:12]] * 3, [np.linspace(1, 0, 12)] * 3, "bm25")
    trec.write_run(run, tmp_path / "run.tsv")
    steps.rerank(run=str(tmp_path / "run.tsv"), corpus=str(tmp_path / "corpus.parquet"),
                 queries=str(tmp_path / "queries.tsv"), run_out=str(tmp_path / "r.tsv"),
                 latency_out=str(tmp_path / "l.tsv"), approach="ce",
                 path=str(tiny_models["cross"]), model="cross", max_length=32,
                 batch_size="auto", depth=10, device="cpu")
    lines = progress_lines(caplog)
    assert "rerank ce: 30 pairs to do" in lines
    assert any(line.startswith("rerank ce: 30 pairs done in ") for line in lines)


# -- batch size -----------------------------------------------------------------------------
def test_auto_batch_size_per_device_and_explicit_kept():
    assert models.resolve_batch_size("auto", "cpu") == models.AUTO_BATCH_SIZE["cpu"] == 4
    assert models.resolve_batch_size("auto", "cuda") == models.AUTO_BATCH_SIZE["cuda"] == 128
    assert models.resolve_batch_size(128, "cpu") == 128
    assert models.resolve_batch_size(3, "cuda") == 3


def _config(**model):
    return {"name": "x", "data": {"examples": "e.parquet", "products": "p.parquet"},
            "models": [{"name": "m", "kind": "bi-encoder", "path": "p", **model}],
            "approaches": [{"name": "m", "type": "dense", "model": "m"}]}


def test_schema_defaults_auto_and_fp32():
    cfg = C.validate(_config())
    model = cfg["models"][0]
    assert (model["batch_size"], model["precision"], cfg["model_threads"]) == \
        ("auto", "fp32", "auto")
    assert C.validate(_config(batch_size=16))["models"][0]["batch_size"] == 16


@pytest.mark.parametrize("bad,key", [({"batch_size": "fast"}, "batch_size"),
                                     ({"batch_size": 0}, "batch_size"),
                                     ({"precision": "fp8"}, "precision")])
def test_schema_rejects_bad_batch_size_and_precision(bad, key):
    with pytest.raises(ShopbenchError, match=rf"config models\[0\]\.{key}"):
        C.validate(_config(**bad))


def test_notebook_experiments_pin_their_batch_sizes():
    """seed.yaml keeps the notebook's batch sizes, esci-us-150q.yaml its earlier default: their
    results files stay byte-identical under the auto default."""
    def sizes(name):
        cfg = yaml.safe_load(open(C.SCHEMA_PATH.parents[2] / "experiments" / name))
        return {m["name"]: m.get("batch_size") for m in cfg["models"]}, cfg.get("model_threads")

    assert sizes("seed.yaml") == ({"minilm": 128, "e5": 128, "ms-marco": 32}, 4)
    assert sizes("esci-us-150q.yaml") == ({"minilm": 32}, 4)


# -- precision ------------------------------------------------------------------------------
def test_precision_errors():
    with pytest.raises(ShopbenchError, match="int8 .* runs on a CPU only, not on cuda"):
        models.check_precision("int8", "cuda", "ce")
    with pytest.raises(ShopbenchError, match="bf16 needs a CPU with native bfloat16"):
        models.check_precision("bf16", "cpu", "ce", cpu_bf16=False)
    models.check_precision("bf16", "cpu", "ce", cpu_bf16=True)
    models.check_precision("bf16", "cuda", "ce", cpu_bf16=False)
    models.check_precision("int8", "cpu", "ce")


def test_cpu_bf16_detection():
    assert models.cpu_supports_bf16("processor : 0\nflags : fpu avx2 avx512f avx512_bf16\n")
    assert models.cpu_supports_bf16("flags : fpu amx_bf16 amx_tile\n")
    assert models.cpu_supports_bf16("Features : fp asimd bf16 i8mm\n")
    assert not models.cpu_supports_bf16("flags : fpu sse2 avx2 avx512f avx512bw\n")


def test_int8_quantizes_linear_layers_and_scores_alike(tiny_models):
    import torch

    pairs = [("red shoe", "a red shoe for running"), ("red shoe", "blue hat"),
             ("hat", "blue hat with a brim")] * 3
    fp32 = models.load_cross_encoder(str(tiny_models["cross"]), "ce", "cpu", 64)
    int8 = models.load_cross_encoder(str(tiny_models["cross"]), "ce", "cpu", 64, "int8")
    kinds = {type(m).__module__ for m in int8.model.modules()}
    assert any("quantized" in k for k in kinds)
    assert not any(type(m) is torch.nn.Linear for m in int8.model.modules())
    a, b = fp32.predict(pairs), int8.predict(pairs)
    assert np.corrcoef(a, b)[0, 1] > 0.9
    bi = models.load_bi_encoder(str(tiny_models["bi"]), "bi", "cpu", 64, "int8")
    emb = bi.encode(["red shoe", "blue hat"], normalize_embeddings=True)
    assert emb.shape[0] == 2 and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)


def test_int8_loads_without_deprecation_warnings(tiny_models):
    """torch 2.13 marks its eager int8 quantization deprecated; shopbench keeps it (torchao's
    replacement is slower than fp32 on a CPU) and keeps its warnings out of the job's log."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ce = models.load_cross_encoder(str(tiny_models["cross"]), "ce", "cpu", 64, "int8")
        ce.predict([("red shoe", "a red shoe"), ("hat", "blue hat")])
    deprecations = [str(w.message)[:120] for w in caught if "deprecated" in str(w.message)]
    assert deprecations == []


def test_int8_without_torchs_quantization_stops_with_the_reason(monkeypatch):
    import torch

    module = torch.nn.Sequential(torch.nn.Linear(4, 4))
    monkeypatch.delattr(torch.ao.quantization, "quantize_dynamic")  # a later torch
    with pytest.raises(ShopbenchError, match=r"precision int8 needs torch\.ao\.quantization\."
                                             r"quantize_dynamic, which torch .* no longer has; "
                                             r"use precision fp32 or bf16"):
        models.apply_precision(module, "int8", "cpu")


def test_bf16_runs_where_the_cpu_has_it_else_stops_with_the_reason(tiny_models):
    import torch

    if not models.cpu_supports_bf16():
        with pytest.raises(ShopbenchError, match="bf16 needs a CPU with native bfloat16"):
            models.load_cross_encoder(str(tiny_models["cross"]), "ce", "cpu", 64, "bf16")
        return
    ce = models.load_cross_encoder(str(tiny_models["cross"]), "ce", "cpu", 64, "bf16")
    assert next(ce.model.parameters()).dtype == torch.bfloat16
    scores = ce.predict([("red shoe", "a red shoe"), ("red shoe", "blue hat")])
    assert np.isfinite(np.asarray(scores, dtype=np.float64)).all()
    bi = models.load_bi_encoder(str(tiny_models["bi"]), "bi", "cpu", 64, "bf16")
    emb = bi.encode(["red shoe", "blue hat"], normalize_embeddings=True)
    assert np.isfinite(np.asarray(emb, dtype=np.float64)).all()


# -- scheduling -----------------------------------------------------------------------------
def test_critical_path_is_what_feeds_a_reranker():
    cfg = yaml.safe_load(open(C.SCHEMA_PATH.parents[2] / "experiments" / "seed.yaml"))
    path = C.critical_path(C.validate(cfg))
    assert path == {"approaches": {"minilm-rerank", "minilm-top50"},
                    "models": {"minilm", "ms-marco"}}
    cfg["approaches"].append({"name": "rr-hybrid", "type": "rerank", "model": "ms-marco",
                              "run": "hybrid"})
    path = C.critical_path(C.validate(cfg))
    assert path["approaches"] == {"minilm-rerank", "minilm-top50", "rr-hybrid", "hybrid",
                                  "minilm-100", "bm25"}
    cfg = yaml.safe_load(open(C.SCHEMA_PATH.parents[2] / "config.yaml"))
    assert C.critical_path(C.validate(cfg)) == {"approaches": set(), "models": set()}
