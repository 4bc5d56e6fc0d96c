"""Progress output of a run: a bar on a terminal, a log line every N queries otherwise."""
from __future__ import annotations

import sys
import time
from typing import TextIO

MODES = ("auto", "bar", "lines", "off")
DEFAULT_EVERY = 16  #: queries between two log lines (AG-Net evaluates 16 architectures per iteration)


class Progress:
    """``mode``: ``bar`` (tqdm), ``lines`` (one line every ``every`` queries and at the end), ``off``,
    or ``auto`` (a bar when ``stream`` is a terminal, else lines)."""

    def __init__(self, total: int, label: str, mode: str = "auto", every: int = DEFAULT_EVERY,
                 stream: TextIO | None = None):
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}")
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode, self.total, self.label, self.every = mode, total, label, max(1, int(every))
        self.start = time.perf_counter()
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="query", file=self.stream, mininterval=1.0)

    def update(self, done: int, text: str) -> None:
        """``done`` queries so far; ``text``: the current best, e.g. ``best val 91.23``."""
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            self._bar.set_postfix_str(text, refresh=False)
        elif self.mode == "lines" and (done % self.every == 0 or done == self.total):
            print(f"{self.label}: {done}/{self.total} queries, {text}, {time.perf_counter() - self.start:.0f} s",
                  file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """A line of its own (e.g. that recorded queries are being replayed), unless the output is off."""
        if self._bar is not None:
            self._bar.write(f"{self.label}: {text}", file=self.stream)
        elif self.mode != "off":
            print(f"{self.label}: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
