"""Progress of long steps (encoding, reranking): items done, rate and time left, at a steady pace.

A line goes to the ``shopbench`` logger (the terminal's stderr and the job's log, through
``shopbench.logs.step_logging``) at most every ``every`` seconds, plus one at the end, e.g.::

    encode minilm: 1,200/6,764 products (17.7%), 14.2 products/s, 6:32 left

No torch here; the clock is injectable so that the pacing can be tested.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("shopbench")


def format_seconds(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Count items done out of ``total`` and log a progress line every ``every`` seconds.

    ``update(n)`` after each batch; ``finish()`` once at the end (logs the total time and rate).
    The rate is items per second since the start; time left = items left / rate.
    """

    def __init__(self, total: int, what: str, unit: str = "items", every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 logger: logging.Logger | None = None) -> None:
        self.total, self.what, self.unit, self.every = int(total), what, unit, float(every)
        self.clock = clock
        self.logger = logger or log
        self.done = 0
        self.start = clock()
        self.last = self.start
        self.logger.info("%s: %s %s to do", what, f"{self.total:,}", unit)

    def line(self, now: float) -> str:
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else float("inf")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        left_s = format_seconds(left) if left != float("inf") else "?"
        rate_s = f"{rate:,.1f}" if rate != float("inf") else "?"
        return (f"{self.what}: {self.done:,}/{self.total:,} {self.unit} ({pct:.1f}%), "
                f"{rate_s} {self.unit}/s, {left_s} left")

    def update(self, n: int = 1) -> None:
        self.done += int(n)
        now = self.clock()
        if now - self.last >= self.every and self.done < self.total:
            self.last = now
            self.logger.info(self.line(now))

    def finish(self) -> None:
        now = self.clock()
        elapsed = now - self.start
        rate = f"{self.done / elapsed:,.1f}" if elapsed > 0 else "?"
        self.logger.info("%s: %s %s done in %s (%s %s/s)", self.what, f"{self.done:,}",
                         self.unit, format_seconds(elapsed), rate, self.unit)
