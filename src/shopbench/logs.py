"""Logging for workflow steps: everything a step logs, and its error, goes to the rule's log.

An expected error (a :class:`ShopbenchError`: bad input) reaches the terminal as its message
alone; its traceback goes to the rule's log only. Any other exception is a bug and keeps its
traceback on the terminal too.
"""

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

from .errors import ShopbenchError

# Library chatter that reads like an error but is not one: faiss.loader logs at INFO "Could not
# load library with AVX2 support" and then loads its generic build, as designed. Their warnings
# and errors still show.
QUIET_LOGGERS = {"faiss.loader": logging.WARNING, "faiss": logging.WARNING}


@contextlib.contextmanager
def step_logging(log_files) -> None:
    """Send the shopbench logger to the rule's log file (and stderr) for one step."""
    stream = logging.StreamHandler(sys.stderr)
    files: list[logging.Handler] = []
    if log_files:
        files.append(logging.FileHandler(str(log_files[0]), mode="w", encoding="utf-8"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    for handler in [stream, *files]:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    log = logging.getLogger("shopbench")
    start = time.perf_counter()
    try:
        yield
        peak = peak_rss_mb()
        log.info("step done in %.1f s, peak memory %s", time.perf_counter() - start,
                 f"{peak:.0f} MB (VmHWM)" if peak is not None else "unknown")
    except ShopbenchError as exc:
        # Bad input: the message on the terminal and in the log, the traceback in the log only.
        stream.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (exc,), None))
        record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (exc,),
                                sys.exc_info())
        for handler in files:
            handler.handle(record)
        raise SystemExit(1) from None
    except Exception as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        for handler in [stream, *files]:
            root.removeHandler(handler)
            handler.close()
