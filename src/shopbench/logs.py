"""Logging for workflow steps: everything a step logs, and its error, goes to the rule's log."""

from __future__ import annotations

import contextlib
import logging
import sys
import time


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process (Linux VmHWM) in MB; None where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@contextlib.contextmanager
def step_logging(log_files) -> None:
    """Send the shopbench logger to the rule's log file (and stderr) for one step."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_files:
        handlers.append(logging.FileHandler(str(log_files[0]), mode="w", encoding="utf-8"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    start = time.perf_counter()
    try:
        yield
        peak = peak_rss_mb()
        logging.getLogger("shopbench").info(
            "step done in %.1f s, peak memory %s", time.perf_counter() - start,
            f"{peak:.0f} MB (VmHWM)" if peak is not None else "unknown")
    except Exception as exc:
        logging.getLogger("shopbench").error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
