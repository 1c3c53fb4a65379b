"""argparse `type=` functions for numeric options: a bad value is argparse's one-line usage error naming the
option and the allowed range, never a traceback or a silent tight loop later on."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _range_text(lo: float, hi: float | None, lo_open: bool) -> str:
    if hi is None:
        return f"> {lo:g}" if lo_open else f"≥ {lo:g}"
    return f"{'>' if lo_open else ''}{lo:g}..{hi:g}"


def integer(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """A whole number in lo..hi (no upper bound when hi is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{value} is out of range; expected {_range_text(lo, hi, False)}")
        return value

    return parse


def number(lo: float, hi: float | None = None, *, lo_open: bool = False) -> Callable[[str], float]:
    """A finite number in lo..hi; `lo_open` excludes lo itself (e.g. "> 0")."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if (not math.isfinite(value) or value < lo or (lo_open and value == lo)
                or (hi is not None and value > hi)):
            raise argparse.ArgumentTypeError(f"{text} is out of range; expected {_range_text(lo, hi, lo_open)}")
        return value

    return parse


def number_list(text: str) -> list[float]:
    """Comma-separated numbers ("1.1,1.25"); "" or "none" = an empty list. One value per option, so the
    option never swallows a following positional argument (`--zoom-views 1.1 photo.jpg`)."""
    if text.strip().lower() in ("", "none"):
        return []
    out = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part.strip()!r} is not a number (write e.g. 1.1,1.25)") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{part.strip()!r} is not a finite number")
        out.append(value)
    return out


def add_zoom_views(parser: argparse.ArgumentParser, help: str, default: list[float] | None = None) -> None:
    """`--zoom-views Z[,Z…]`, the one form every command takes: comma-separated factors, repeatable; 'none' or
    no value at all = no zoomed views. One value per option, so it never swallows a following path."""
    parser.add_argument("--zoom-views", type=number_list, nargs="?", const=[], action="extend", default=default,
                        metavar="Z[,Z…]", help=help)
