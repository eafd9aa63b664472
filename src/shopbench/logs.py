"""Logging for workflow steps: everything a step logs, and its error, goes to the rule's log.

An expected error (a :class:`ShopbenchError`: bad input) reaches the terminal as its message
alone; its traceback goes to the rule's log only. Any other exception is a bug and keeps its
traceback on the terminal too.
"""

from __future__ import annotations

import contextlib
import logging
import re
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

_FAILED_RULE = re.compile(r"^Error in rule (\S+):\s*$")
_JOB_LOG = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?\s*$")
_SHOPBENCH_ERROR = re.compile(r"ERROR shopbench: (.*)$")
#: The last line of a Python traceback: "ValueError: ...", "torch.OutOfMemoryError: ..."
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b(:|$)")


def failed_job_errors(snakemake_log) -> list[str]:
    """One line per failed job of a Snakemake run, from Snakemake's own log: the job's
    ``ERROR shopbench:`` message (from the job's log), or, for another failure, the exception
    its traceback ends with; each names the rule and the job's log."""
    from pathlib import Path

    if isinstance(snakemake_log, (list, tuple)):  # Snakemake 9 passes a list of log files
        return [line for path in snakemake_log for line in failed_job_errors(path)]
    try:
        lines = Path(snakemake_log).read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, TypeError):
        return []
    out, rule = [], None
    for line in lines:
        if (m := _FAILED_RULE.match(line)):
            rule = m.group(1)
        elif rule and (m := _JOB_LOG.match(line)):
            path = m.group(1).split(", ")[0]
            try:
                job_lines = Path(path).read_text(encoding="utf-8",
                                                 errors="replace").splitlines()
            except OSError:
                job_lines = []
            errors = [e.group(1) for e in map(_SHOPBENCH_ERROR.search, job_lines) if e]
            raised = [x.strip() for x in job_lines if _RAISED.match(x)]
            cause = (errors[-1] if errors else raised[-1] if raised else
                     "no error in its log (was the job killed?)")
            entry = f"ERROR shopbench: rule {rule} failed: {cause} (log: {path})"
            if entry not in out:
                out.append(entry)
            rule = None
    return out

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
    except KeyboardInterrupt:
        # Ctrl-C, or SIGINT forwarded by Snakemake: one line, no traceback; nothing written
        log.error("interrupted (SIGINT) after %.1f s; no output written",
                  time.perf_counter() - start)
        raise SystemExit(130) from None
    except Exception as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        for handler in [stream, *files]:
            root.removeHandler(handler)
            handler.close()
