"""Atomic writes give their targets the mode any file the user writes gets (0o666 less the
umask), not the private 0o600 of a temporary file, so results on a shared filesystem are as
readable as the logs beside them."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from shopbench.files import atomic_outputs, atomic_path, write_frame, write_text_atomic


@pytest.fixture(params=[0o022, 0o027, 0o077], ids=lambda m: f"umask{m:03o}")
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_writes_get_the_umasks_mode(tmp_path, umask):
    plain = tmp_path / "plain.log"
    plain.write_text("a log line\n")  # how the logs (and report.html) are written
    frame = pd.DataFrame({"qid": [1, 2], "query": ["red shoe", "blue hat"]})
    write_text_atomic(tmp_path / "out.txt", "text\n")
    for name in ("out.parquet", "out.csv", "out.tsv"):
        write_frame(frame, tmp_path / name)
    with atomic_path(tmp_path / "run.tsv") as tmp:
        tmp.write_text("1\tQ0\tP1\t1\t1.0\tbm25\n")
    with atomic_outputs(tmp_path / "a" / "x.npy", tmp_path / "b" / "y.json") as temps:
        for tmp in temps:
            tmp.write_bytes(b"{}")
    written = ["out.txt", "out.parquet", "out.csv", "out.tsv", "run.tsv", "a/x.npy", "b/y.json"]
    assert {name: mode(tmp_path / name) for name in written} == \
        {name: 0o666 & ~umask for name in written}
    assert mode(plain) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []  # no temporary file left


def test_a_failed_write_leaves_neither_target_nor_temporary_file(tmp_path, umask):
    with pytest.raises(RuntimeError, match="step failed"):
        with atomic_outputs(tmp_path / "x.csv", tmp_path / "y.csv") as temps:
            for tmp in temps:
                tmp.write_text("partial")
                assert mode(tmp) == 0o666 & ~umask
            raise RuntimeError("step failed")
    assert list(tmp_path.iterdir()) == []
