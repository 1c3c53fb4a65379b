"""Anonymous statistics: real SQLite files, the CLI in a subprocess, a real PNG chart."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge.kiosk.stats import StatsError, StatsRecorder, format_table, per_day, per_hour_of_day, read_counts
from edge.types import Decision

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def filled(tmp_path: Path) -> Path:
    db = tmp_path / "sub" / "stats.sqlite"
    rec = StatsRecorder(db)
    day1, day2 = dt.datetime(2025, 3, 1, 10, 15), dt.datetime(2025, 3, 2, 14, 59)
    for _ in range(3):
        assert rec.record("happy", day1)
    assert rec.record("sad", day1 + dt.timedelta(minutes=30))  # same hour
    assert rec.record("happy", day1 + dt.timedelta(hours=1))
    assert rec.record("angry", day2)
    assert not rec.record(None, day2)  # "not sure" is not counted
    assert not rec.record("bored", day2)
    rec.on_decision(Decision(emotion="surprise", confidence=0.9, scores={}))
    rec.on_decision(Decision(emotion=None, confidence=0.2, scores={}, reason="no face"))
    return db


def test_counts_per_emotion_per_hour_and_nothing_else(tmp_path):
    db = filled(tmp_path)
    rows = read_counts(db)
    assert ("2025-03-01 10:00", "happy", 3) in rows
    assert ("2025-03-01 10:00", "sad", 1) in rows
    assert ("2025-03-01 11:00", "happy", 1) in rows
    assert ("2025-03-02 14:00", "angry", 1) in rows
    assert sum(c for _, e, c in rows if e == "surprise") == 1
    assert len(rows) == 5
    with sqlite3.connect(db) as con:  # the schema holds only hour, emotion, count
        columns = [r[1] for r in con.execute("PRAGMA table_info(counts)")]
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert columns == ["hour", "emotion", "count"] and tables == ["counts"]
    since = read_counts(db, dt.date(2025, 3, 2))
    assert {r[0][:10] for r in since} >= {"2025-03-02"} and "2025-03-01 10:00" not in {r[0] for r in since}


def test_aggregation_and_table(tmp_path):
    rows = read_counts(filled(tmp_path))
    days = per_day(rows)
    assert days["2025-03-01"]["happy"] == 4 and days["2025-03-01"]["sad"] == 1 and days["2025-03-01"]["fear"] == 0
    hours = per_hour_of_day(rows)
    assert hours[10]["happy"] == 3 and hours[11]["happy"] == 1 and hours[14]["angry"] == 1
    table = format_table(rows)
    lines = table.splitlines()
    assert lines[0].split() == ["day", "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise", "total"]
    assert lines[2].split() == ["2025-03-01", "0", "0", "0", "4", "0", "1", "0", "5"]
    assert lines[-1].split()[0] == "total" and lines[-1].split()[-1] == str(sum(c for *_, c in rows))


def test_bad_files_are_one_line_errors(tmp_path):
    with pytest.raises(StatsError, match="no statistics file"):
        read_counts(tmp_path / "none.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StatsError, match="not a readable statistics database"):
        read_counts(junk)
    with pytest.raises(StatsError, match="cannot open statistics database"):
        StatsRecorder(junk)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "edge.cli", "stats", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def load_png(path: Path):
    import cv2

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, "not a PNG file"
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return bgr[..., ::-1]  # RGB


def test_cli_prints_table_and_draws_png(tmp_path):
    from edge.kiosk.chart import SIZE, bar_rects
    from edge.labels import COLOURS

    db = filled(tmp_path)
    out = tmp_path / "chart.png"
    done = run_cli("--db", str(db), "--since", "2025-03-01", "--plot", str(out))
    assert done.returncode == 0, done.stderr
    assert "2025-03-01" in done.stdout and "total" in done.stdout
    image = load_png(out)
    assert image.shape[:2] == (SIZE[1], SIZE[0])
    # Every bar segment is drawn in its emotion's colour where the geometry says it is.
    hours = per_hour_of_day(read_counts(db))
    bars, _ = bar_rects(hours)
    assert {e for e, _ in bars} >= {"happy", "sad", "angry", "surprise"}
    for emotion, (x, y, w, h) in bars:
        assert tuple(image[y + h // 2, x + w // 2]) == COLOURS[emotion], emotion
    # 10:00 on 2025-03-01: 3 happy under 1 sad (plus whatever `now` added): heights follow the counts
    at10 = {e: r for e, r in bars if r[0] == min(r2[0] for e2, r2 in bars if e2 == "sad")}
    assert abs(at10["happy"][3] - 3 * at10["sad"][3]) <= 2


def test_plot_needs_nothing_beyond_the_edge_install(tmp_path):
    """matplotlib is not in .[edge]: with it unimportable the chart is still drawn (pygame)."""
    db = filled(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    out = tmp_path / "x.png"
    cmd = [sys.executable, "-m", "edge.cli", "stats", "--db", str(db), "--plot", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2025-03-01" in done.stdout and f"chart written to {out}" in done.stdout
    assert load_png(out).std() > 10  # not a blank image


def test_unwritable_chart_is_one_line(tmp_path):
    db = filled(tmp_path)
    done = run_cli("--db", str(db), "--plot", str(tmp_path / "no" / "such" / "dir" / "c.png"))
    assert done.returncode == 1 and "cannot write chart" in done.stderr and "Traceback" not in done.stderr


def in_child_as_nobody(fn) -> str:
    """Run `fn` in a forked child with the uid/gid of 'nobody' (as staff without sudo); its result or error text."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, run, report, exit without running pytest's teardown
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            text = f"ok: {fn()}"
        except BaseException as err:  # noqa: BLE001 - reported to the parent, which asserts on it
            text = f"{type(err).__name__}: {err}"
        os.write(write_end, text.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        text = f.read().decode()
    os.waitpid(pid, 0)
    return text


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to become another user")
def test_a_db_the_user_may_not_read_is_a_one_line_error():
    import tempfile

    with tempfile.TemporaryDirectory() as top:  # under /tmp, not pytest's 0700 folder: nobody can reach it
        os.chmod(top, 0o755)
        db = filled(Path(top))
        state = db.parent
        os.chmod(state, 0o755)
        assert in_child_as_nobody(lambda: len(read_counts(db))).startswith("ok: ")  # reachable: the setup is right
        os.chmod(state, 0o750)  # as install.sh makes /var/lib/emotions: its owner only (here root)
        result = in_child_as_nobody(lambda: read_counts(db))
        assert result.startswith("StatsError: ") and "Permission denied" in result and "sudo" in result, result
        assert str(db) in result and "\n" not in result
        os.chmod(state, 0o755)
        os.chmod(db, 0o600)  # the folder is open but the file is not
        result = in_child_as_nobody(lambda: read_counts(db))
        assert result.startswith("StatsError: ") and "permission denied" in result and "sudo" in result, result


def test_unusable_path_is_a_one_line_error():
    with pytest.raises(StatsError, match="cannot read"):
        read_counts(Path("/tmp") / ("x" * 300) / "stats.sqlite")  # stat() fails with ENAMETOOLONG


def test_cli_errors(tmp_path):
    done = run_cli("--db", str(tmp_path / "nothing.sqlite"))
    assert done.returncode == 1 and "no statistics file" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("--db", str(filled(tmp_path)), "--since", "March")
    assert done.returncode == 2 and "not a date" in done.stderr
