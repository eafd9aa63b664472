"""pytest plugin: a skipped test fails the run. No test of shopbench may skip on a fresh clone
after the README's install (a skip hides a missing dependency or data file), so CI and the
README's test command fail when one does, naming each skipped test and its reason."""

from __future__ import annotations

import pytest

_skipped: list[str] = []


def pytest_collectreport(report) -> None:
    if report.skipped:  # a whole module skipped at collection, e.g. pytest.importorskip
        _skipped.append(f"{report.nodeid}: {_reason(report)}")


def pytest_runtest_logreport(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(f"{report.nodeid}: {_reason(report)}")


def _reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)


def pytest_sessionfinish(session, exitstatus) -> None:
    if _skipped and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped:
        terminalreporter.section("skipped tests fail the run (tests/no_skip.py)", red=True)
        for line in _skipped:
            terminalreporter.line(line, red=True)
