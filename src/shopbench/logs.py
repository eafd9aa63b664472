"""Logging for workflow steps: everything a step logs, and its error, goes to the rule's log."""

from __future__ import annotations

import contextlib
import logging
import sys


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
    try:
        yield
    except Exception as exc:
        logging.getLogger("shopbench").error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
