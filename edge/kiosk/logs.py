"""Logging for journald: plain lines on stderr with a level, no timestamps under systemd (journald adds
its own), and a guard that keeps image data out of the log whatever a caller passes in."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

MAX_MESSAGE = 2000  # a longer line is a bug (an array or a blob), not information


class NoImageDataFilter(logging.Filter):
    """Replaces array/bytes arguments by their shape or size and caps the length of every message.

    Frames and face crops are numpy arrays or bytes; logging one by mistake would write a face to
    the journal. This filter makes that impossible through the standard logging calls.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):  # log.info("%(crop)s", {"crop": ...}): keep it a mapping
            record.args = {key: _redact(value) for key, value in record.args.items()}
        elif record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_redact(a) for a in args)
        record.msg = _redact(record.msg)
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            return True  # logging reports its own formatting errors
        if len(text) > MAX_MESSAGE:
            record.msg, record.args = text[:MAX_MESSAGE] + " …[truncated]", ()
        return True


def _redact(value: object, depth: int = 0) -> object:
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype") and len(shape) > 0:  # a numpy scalar (shape ()) is a number
        return f"<array {tuple(shape)} {value.dtype}>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    # Containers too (`log.info("%s", [crop])`), a few levels deep: their repr would print the pixels.
    if depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        items = [_redact(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if depth < 4 and isinstance(value, Mapping):
        return {key: _redact(item, depth + 1) for key, item in value.items()}
    return value


def setup_logging(verbose: bool = False, stream=None) -> None:
    """Configure the root logger once: level INFO (DEBUG with verbose), stderr, the no-image filter."""
    under_journald = bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))
    # "<N>" prefixes let journald keep the priority of each line (sd-daemon(3) convention).
    fmt = "%(levelname)s %(name)s: %(message)s"
    fmt = "%(journal_prefix)s" + fmt if under_journald else "%(asctime)s " + fmt
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt, datefmt="%H:%M:%S"))
    handler.addFilter(NoImageDataFilter())
    handler.addFilter(_JournalPrefix())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


class _JournalPrefix(logging.Filter):
    _PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}

    def filter(self, record: logging.LogRecord) -> bool:
        level = max((lv for lv in self._PRIORITY if lv <= record.levelno), default=logging.DEBUG)
        record.journal_prefix = f"<{self._PRIORITY[level]}>"
        return True
