"""A workflow killed or interrupted while it encodes finishes on the next run, with a clean
run's results. SIGINT (Ctrl-C, or to Snakemake alone) needs only the same command again.

The demo workflow (demo data, a tiny bi-encoder, BM25) runs in a scratch directory: once
cleanly, and once killed with SIGKILL (process group) while the encode job runs, then
``snakemake --unlock`` (a SIGKILL leaves Snakemake's lock behind) and the same command again.
Atomic writes mean the killed job left no partial output, so no ``--rerun-incomplete`` is needed.

The model's prefixes hold text that a shell, Snakemake or Python would evaluate; the model must
receive it verbatim.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from shopbench.files import atomic_outputs, atomic_path

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
NAME = "interrupt"
DOC_PREFIX = "{config} $(touch pwned) "
QUERY_PREFIX = "{wildcards.seed} `touch pwned` "
COMPARED = ["seed42/qrels.tsv", "seed42/queries.tsv", "seed42/runs/bi.tsv",
            "seed42/runs/bm25.tsv", "seed42/eval/bi.tsv", "seed42/eval/bm25.tsv",
            "seed42/embeddings/bi.npy", "metrics.csv"]


@pytest.fixture(scope="module")
def configfile(tmp_path_factory, tiny_models) -> Path:
    config = {
        "name": NAME,
        "data": {"examples": str(DEMO / "shopping_queries_dataset_examples.parquet"),
                 "products": str(DEMO / "shopping_queries_dataset_products.parquet")},
        "sampling": {"n_queries": 20, "n_rows": 200},
        "protocol": "judged-pool",
        "models": [{"name": "bi", "kind": "bi-encoder", "path": str(tiny_models["bi"]),
                    "query_prefix": QUERY_PREFIX, "document_prefix": DOC_PREFIX}],
        "approaches": [{"name": "bi", "type": "dense", "model": "bi"},
                       {"name": "bm25", "type": "bm25"}],
        "evaluation": {"bootstrap": 100, "permutations": 100},
    }
    path = tmp_path_factory.mktemp("interrupt-config") / "interrupt.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def command(workdir: Path, configfile: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", f"results/{NAME}/metrics.csv", "--cores", "2",
            *args, "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(configfile)]


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def clean(tmp_path_factory, configfile) -> Path:
    workdir = tmp_path_factory.mktemp("clean")
    proc = run(command(workdir, configfile))
    assert proc.returncode == 0, proc.stderr[-4000:]
    return workdir / "results" / NAME


def kill_during_encode(workdir: Path, configfile: Path) -> None:
    """Start the workflow; SIGKILL its whole process group once the product encoding job
    (encode_products, log encode_<model>.log) has started."""
    logs = workdir / "results" / NAME / "logs"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen(command(workdir, configfile), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        # No deadline (machines differ): the loop ends when the encode job starts, or fails
        # when the workflow ends without one.
        while not any(logs.rglob("encode_bi*.log")):
            assert proc.poll() is None, "the workflow ended before the encode job started"
            time.sleep(0.05)
        time.sleep(0.5)  # inside the job (it imports torch and encodes for a few seconds)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_killed_during_encode_then_rerun_equals_clean_run(tmp_path, configfile, clean):
    out = tmp_path / "results" / NAME
    kill_during_encode(tmp_path, configfile)
    assert (out / "seed42" / "corpus.parquet").exists()
    assert not (out / "seed42" / "embeddings" / "bi.npy").exists(), "killed too late"
    assert not (out / "metrics.csv").exists()

    # A SIGKILL leaves Snakemake's lock: the plain rerun says to unlock.
    locked = run(command(tmp_path, configfile))
    assert locked.returncode != 0
    assert "--unlock" in locked.stdout + locked.stderr
    unlock = run(command(tmp_path, configfile, "--unlock"))
    assert unlock.returncode == 0, unlock.stderr[-4000:]

    rerun = run(command(tmp_path, configfile))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    for name in COMPARED:
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    leftovers = [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    assert leftovers == []


def interrupt_during_encode(workdir: Path, configfile: Path, group: bool) -> str:
    """Start the workflow and send SIGINT once the encode job runs: to its whole process group
    (``group``: a terminal's Ctrl-C) or to the Snakemake process alone (``kill -INT <pid>``, as
    a job scheduler does). Returns what the run printed."""
    logs = workdir / "results" / NAME / "logs"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen(command(workdir, configfile), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        while not any(logs.rglob("encode_bi*.log")):
            assert proc.poll() is None, "the workflow ended before the encode job started"
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        if group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "kill-int"])
def test_interrupted_then_the_same_command_again_equals_clean_run(tmp_path, configfile, clean,
                                                                  group):
    """Both ways of stopping stop the running job at once; it says so in one line (no
    traceback), writes nothing, and the same command again (no --unlock, no
    --rerun-incomplete) finishes with a clean run's results."""
    out_dir = tmp_path / "results" / NAME
    printed = interrupt_during_encode(tmp_path, configfile, group)
    assert "Traceback" not in printed and "KeyboardInterrupt" not in printed
    assert "ERROR shopbench: interrupted (SIGINT)" in printed
    assert not (out_dir / "seed42" / "embeddings" / "bi.npy").exists(), "stopped too late"
    rerun = run(command(tmp_path, configfile))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    for name in COMPARED:
        assert (out_dir / name).read_bytes() == (clean / name).read_bytes(), name
    assert [p for p in tmp_path.rglob("*") if ".tmp" in p.name] == []


def test_descendants_are_the_processes_below(tmp_path):
    from shopbench.interrupt import descendants

    proc = subprocess.Popen(["bash", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 60
        while len(descendants(os.getpid())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        below = descendants(os.getpid())
        assert proc.pid in below and len(below) == 3
        assert os.getpid() not in below and os.getppid() not in below
    finally:
        for pid in descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_config_text_reaches_the_model_verbatim(clean, tiny_models):
    """Prefixes with braces, $(...) and backquotes are encoded as written, and run nothing."""
    from shopbench import dense, models, trec

    assert not list(clean.parents[1].rglob("pwned"))
    model = models.load_bi_encoder(str(tiny_models["bi"]), "bi")
    corpus = pd.read_parquet(clean / "seed42" / "corpus.parquet")
    stored = np.load(clean / "seed42" / "embeddings" / "bi.npy")
    np.testing.assert_allclose(stored, dense.encode(model, corpus["text"].tolist(), DOC_PREFIX),
                               atol=1e-5)

    run_ = trec.read_run(clean / "seed42" / "runs" / "bi.tsv")
    queries = trec.read_queries(clean / "seed42" / "queries.tsv")
    top = run_[run_["rank"] == 1].merge(queries, on="qid")
    position = {d: i for i, d in enumerate(corpus["docid"])}
    for prefix, same in [(QUERY_PREFIX, True), ("42 `touch pwned` ", False)]:
        qvecs = dense.encode(model, top["query"].tolist(), prefix)
        scores = (qvecs * stored[[position[d] for d in top["docid"]]]).sum(axis=1)
        assert np.allclose(scores, top["score"], atol=1e-5) is same, prefix


# -- atomic writes ------------------------------------------------------------------------------
def test_atomic_outputs_all_or_nothing(tmp_path):
    targets = [tmp_path / "a" / "corpus.parquet", tmp_path / "a" / "candidates.tsv"]
    with pytest.raises(RuntimeError):
        with atomic_outputs(*targets) as temps:
            assert [t.suffix for t in temps] == [".parquet", ".tsv"]
            temps[0].write_text("written")
            raise RuntimeError("the second output failed")
    assert list((tmp_path / "a").iterdir()) == []
    with atomic_outputs(*targets) as temps:
        for tmp in temps:
            tmp.write_text(tmp.suffix)
    assert [t.read_text() for t in targets] == [".parquet", ".tsv"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["candidates.tsv",
                                                                  "corpus.parquet"]


def test_temporary_files_of_a_killed_step_are_removed_by_the_next(tmp_path):
    """A SIGKILLed writer cannot clean up; the next write of the same target does."""
    stale = [tmp_path / ".bi.npy.abcd1234.tmp", tmp_path / ".bi.npy.wxyz9876.tmp.npy"]
    other = tmp_path / ".bi.npy.npy.abcd1234.tmp"  # another target's: kept
    for path in [*stale, other]:
        path.write_text("partial")
    with atomic_path(tmp_path / "bi.npy") as tmp:
        tmp.write_text("complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "bi.npy"]


#: Writes that the lint below cannot see are atomic: a sparse backend's ``save(scorer, folder)``
#: writes inside the temporary folder of shopbench.bm25.build_index, which is renamed onto the
#: index folder whole (test_a_failed_bm25_index_build_leaves_nothing).
INSIDE_A_TEMPORARY_FOLDER = {
    ("src/shopbench/backends/rank_bm25.py", 'with open(folder / "okapi.pkl", "wb") as out:'),
    ("src/shopbench/backends/bm25s.py",
     'np.save(folder / "empty_products.npy", np.asarray(scorer.empty_docs, dtype=np.int64))'),
    # lucene_hnsw.build writes its inputs in a fresh temporary folder, then tars what it needs
    # into atomic_path(out); lucene.build writes the Lucene index inside its temporary folder
    ("src/shopbench/backends/lucene_hnsw.py",
     'with open(work / "docs" / "vectors.jsonl", "w", encoding="utf-8") as handle:'),
    ("src/shopbench/backends/lucene_hnsw.py",
     'np.save(work / "embeddings.npy", np.concatenate(blocks))'),
    ("src/shopbench/backends/lucene.py",
     "def write_index(texts, folder: Path, analyzer, threads: int = 1) -> int:"),
    ("src/shopbench/backends/lucene.py",
     'n_docs = write_index(texts, tmp / "lucene", java_analyzer, threads)'),
}


def test_every_step_writes_through_a_temporary_path():
    """No step opens an output for writing directly: all go through atomic_path/outputs (a
    handle opened on the temporary path counts as such)."""
    sources = [*(REPO / "src" / "shopbench").rglob("*.py"),  # with steps/ and backends/
               *(REPO / "workflow" / "scripts").glob("*.py")]
    # (opening os.devnull for writing, to silence a library's prints, writes no output)
    direct = re.compile(r"\.to_(csv|parquet)\((?!tmp|\w*_tmp)|savefig\((?!tmp)|"
                        r"np\.save\((?!out|handle|\w*_tmp)|write_index\((?!\w+, str\(tmp\))|"
                        r"open\((?!tmp\b|\w*_tmp\b|os\.devnull\b)[^)]*['\"]w")
    hits = []
    for path in sources:
        if path.name == "files.py":
            continue
        rel = path.relative_to(REPO).as_posix()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if (direct.search(line) and "atomic_path" not in line
                    and (rel, line.strip()) not in INSIDE_A_TEMPORARY_FOLDER):
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert hits == []


@pytest.mark.parametrize("backend", ["rank_bm25", "bm25s"])
def test_a_failed_bm25_index_build_leaves_nothing(tmp_path, backend):
    """The BM25 index folder appears whole or not at all: a build that fails on its second
    field leaves neither the index nor a temporary folder; a rebuild replaces an index whole."""
    from shopbench import steps

    texts = ["red shoe", "blue mug", "green hat"]
    pd.DataFrame({"docid": list("abc"), "title": texts, "text": texts}).to_parquet(
        tmp_path / "corpus.parquet")
    pd.DataFrame({"docid": list("abc"), "product_title": texts,
                  "product_brand": [1, 2, 3]}).to_parquet(tmp_path / "fields.parquet")
    out = tmp_path / "out"
    out.mkdir()
    opts = dict(corpus=str(tmp_path / "corpus.parquet"), index_out=str(out / "bm25"),
                backend=backend, analyzer="notebook", k1=1.5, b=0.75,
                fields_file=str(tmp_path / "fields.parquet"))
    with pytest.raises(AttributeError):  # the analyzer gets numbers, not texts, in field 2
        steps.bm25_index(fields=["product_title", "product_brand"], **opts)
    assert sorted(p.name for p in out.iterdir()) == []
    steps.bm25_index(fields=["product_title"], **opts)
    steps.bm25_index(**{**opts, "fields_file": None})  # the corpus text: one field, "text"
    assert sorted(p.name for p in out.iterdir()) == ["bm25"]
    assert sorted(p.name for p in (out / "bm25").iterdir()) == [
        "dropped_letters.json", "shopbench.json", "text"]
