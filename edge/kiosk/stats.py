"""Anonymous statistics for educators: how many times each emotion was shown, per hour.

The SQLite file holds one row per (hour, emotion) with a count and nothing else: no times finer
than the hour, no scores, no images, nothing about a person. `emotions stats` prints the table and
can draw a chart (edge/kiosk/chart.py, with pygame: nothing beyond the edge install).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path

from edge.labels import EMOTIONS

log = logging.getLogger(__name__)

HELP = "print (and optionally plot) the anonymous counts of shown emotions per hour"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    hour TEXT NOT NULL,      -- local time 'YYYY-MM-DD HH:00'
    emotion TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, emotion)
)
"""


class StatsError(Exception):
    """The statistics file cannot be used; one line naming the file."""


def _hour(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:00")


class StatsRecorder:
    """Counts decisions. Opens the file per write: a handful of writes an hour, and nothing stays open
    (so a pulled power plug loses at most the write in flight; SQLite's journal keeps the file valid)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StatsError(f"{self.path}: cannot open statistics database ({err})") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5.0)

    def record(self, emotion: str | None, when: dt.datetime | None = None) -> bool:
        """Add one to the count of `emotion` in the current hour; "not sure" (None) and unknown labels are ignored."""
        if emotion not in EMOTIONS:
            return False
        when = when or dt.datetime.now()
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO counts (hour, emotion, count) VALUES (?, ?, 1) "
                    "ON CONFLICT(hour, emotion) DO UPDATE SET count = count + 1",
                    (_hour(when), emotion),
                )
            return True
        except sqlite3.Error as err:  # statistics are optional: never stop the exhibit for them
            log.warning("statistics not recorded: %s", err)
            return False

    def on_decision(self, decision) -> None:
        """Callback for ExhibitApp(on_decision=...): counts sure decisions only."""
        self.record(getattr(decision, "emotion", None))


def read_counts(path: str | Path, since: dt.date | None = None) -> list[tuple[str, str, int]]:
    """(hour, emotion, count) rows, oldest first."""
    path = Path(path)
    try:
        exists = path.is_file()
    except OSError as err:  # e.g. a 0750 /var/lib/emotions read by another user
        hint = " (run it with sudo, or as the emotions user)" if isinstance(err, PermissionError) else ""
        raise StatsError(f"{path}: cannot read ({err.strerror or err}){hint}") from None
    if not exists:
        raise StatsError(f"{path}: no statistics file (is 'statistics = true' set in the config?)")
    if not os.access(path, os.R_OK):
        raise StatsError(f"{path}: permission denied (run it with sudo, or as the emotions user)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            query, params = "SELECT hour, emotion, count FROM counts", ()
            if since is not None:
                query, params = query + " WHERE hour >= ?", (since.strftime("%Y-%m-%d"),)
            return [(h, e, int(c)) for h, e, c in db.execute(query + " ORDER BY hour, emotion", params)]
        finally:
            db.close()
    except sqlite3.Error as err:
        raise StatsError(f"{path}: not a readable statistics database ({err})") from None


def per_day(rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """day → emotion → count (every emotion present, zeros included)."""
    days: dict[str, dict[str, int]] = {}
    for hour, emotion, count in rows:
        day = days.setdefault(hour[:10], dict.fromkeys(EMOTIONS, 0))
        day[emotion] = day.get(emotion, 0) + count
    return days


def per_hour_of_day(rows: Iterable[tuple[str, str, int]]) -> dict[int, dict[str, int]]:
    """hour of day (0..23) → emotion → count, summed over all days (when do visitors play?)."""
    hours: dict[int, dict[str, int]] = {}
    for hour, emotion, count in rows:
        h = hours.setdefault(int(hour[11:13]), dict.fromkeys(EMOTIONS, 0))
        h[emotion] = h.get(emotion, 0) + count
    return hours


def format_table(rows: list[tuple[str, str, int]]) -> str:
    days = per_day(rows)
    header = ["day", *EMOTIONS, "total"]
    lines = [header]
    totals = dict.fromkeys(EMOTIONS, 0)
    for day, counts in sorted(days.items()):
        lines.append([day, *(str(counts[e]) for e in EMOTIONS), str(sum(counts.values()))])
        for e in EMOTIONS:
            totals[e] += counts[e]
    lines.append(["total", *(str(totals[e]) for e in EMOTIONS), str(sum(totals.values()))])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
           for row in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    out.insert(len(out) - 1, out[1])
    return "\n".join(out)


def plot(rows: list[tuple[str, str, int]], out: Path) -> None:
    """Stacked bars: shown emotions per hour of day, as a PNG file."""
    from edge.kiosk.chart import ChartError, draw_chart

    first, last = (rows[0][0][:10], rows[-1][0][:10]) if rows else ("", "")
    title = f"Emotions shown per hour of day ({first} – {last})" if rows else "No data yet"
    try:
        draw_chart(per_hour_of_day(rows), title, out)
    except ChartError as err:
        raise StatsError(str(err)) from None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-01") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="statistics file (default: statistics_path from the config)")
    parser.add_argument("--config", type=Path, help="exhibit config (TOML) to read statistics_path from")
    parser.add_argument("--since", type=_date, metavar="DATE", help="only from this day on (YYYY-MM-DD)")
    parser.add_argument("--plot", type=Path, metavar="OUT.png", help="also draw a chart to this PNG file")


def main(args: argparse.Namespace) -> int:
    db = args.db
    if db is None:
        from edge.config import ConfigError, load_config, resolve_config_path

        try:
            db = Path(load_config(resolve_config_path(args.config)).statistics_path)
        except ConfigError as err:
            print(f"emotions stats: error: {err}", file=sys.stderr)
            return 2
    try:
        rows = read_counts(db, args.since)
        since = f" since {args.since}" if args.since else ""
        print(format_table(rows) if rows else f"{db}: no counts recorded{since}")
        if args.plot:
            plot(rows, args.plot)
            print(f"chart written to {args.plot}")
    except StatsError as err:
        print(f"emotions stats: error: {err}", file=sys.stderr)
        return 1
    return 0
