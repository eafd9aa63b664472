"""The run fails when a test skips (tests/no_skip.py), and passes when none does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def run_pytest(folder: Path, source: str) -> subprocess.CompletedProcess:
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "test_inner.py").write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get(
        "PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no_skip", "-q", "-p",
                           "no:cacheprovider", str(folder / "test_inner.py")], cwd=folder,
                          capture_output=True, text=True, timeout=300, env=env)


def test_a_skipped_test_fails_the_run(tmp_path):
    proc = run_pytest(tmp_path, "import pytest\n\n"
                                "def test_ok():\n    pass\n\n"
                                "def test_skips():\n    pytest.skip('no data here')\n")
    assert proc.returncode == 1, proc.stdout
    assert "skipped tests fail the run" in proc.stdout
    assert "test_inner.py::test_skips" in proc.stdout and "no data here" in proc.stdout


def test_a_module_skipped_at_collection_fails_the_run(tmp_path):
    proc = run_pytest(tmp_path, "import pytest\n"
                                "pytest.importorskip('no_such_module_anywhere')\n\n"
                                "def test_ok():\n    pass\n")
    assert proc.returncode == 1, proc.stdout
    assert "no_such_module_anywhere" in proc.stdout


def test_no_skip_passes(tmp_path):
    proc = run_pytest(tmp_path, "import pytest\n\n"
                                "def test_ok():\n    pass\n\n"
                                "@pytest.mark.xfail(strict=True)\n"
                                "def test_known_failure():\n    assert False\n")
    assert proc.returncode == 0, proc.stdout
