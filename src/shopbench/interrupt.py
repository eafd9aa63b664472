"""Stopping a run: SIGINT to Snakemake alone (``kill -INT <pid>``, as a job scheduler does)
stops its running jobs as Ctrl-C does, and an interrupted job says so in one line.

Ctrl-C sends SIGINT to the terminal's whole foreground process group: Snakemake and every job.
``kill -INT`` reaches Snakemake only, which then waits for its running jobs to finish and exits
without recording them as complete, so the next run would stop on their "incomplete" outputs.
:func:`forward_to_jobs` makes Snakemake pass the signal on to its own descendants (the local
jobs, never its parent or siblings), so both ways of stopping leave the same state: the
interrupted jobs wrote nothing (their outputs are written atomically) and the same command
again redoes exactly them. Linux only (it reads ``/proc``); elsewhere nothing is forwarded.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def descendants(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """The process ids below ``pid`` (children, their children, ...), from ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text(encoding="utf-8", errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = text[text.rfind(")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(children.get(child, []))
    return sorted(out)


def forward_to_jobs() -> None:
    """From now on, a SIGINT to this process goes to its descendants too, then to the
    handler that was there before (Python's: KeyboardInterrupt). Does nothing outside the
    main thread (where Python allows no signal handler)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        for pid in descendants(os.getpid()):
            try:
                os.kill(pid, signal.SIGINT)
            except (ProcessLookupError, PermissionError):
                pass
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def stop_once() -> None:
    """In a job: the first SIGINT raises KeyboardInterrupt, later ones are ignored, so the
    clean-up of temporary outputs runs to its end (Ctrl-C and the forwarding can both send
    one)."""
    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
