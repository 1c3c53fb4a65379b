"""No frame or face crop is ever written to disk: run sessions under a watched HOME / working directory /
TMPDIR and look for anything image-like (by magic number, or by the size of a raw frame or crop).

The sessions play the bundled demo video (real FER2013 faces that the default detector finds), and each
test checks that faces were really detected, cropped and classified: a session that sees no face cannot
leak one."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from test_doctor import rows as doctor_rows

from edge.camera import DEMO_VIDEO
from edge.camera.sources import VideoFile
from edge.classify import DEFAULT_MODEL, Classifier, ClassifierOptions
from edge.kiosk.doctor import PASS
from edge.kiosk.stats import StatsRecorder, read_counts
from edge.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"BM": "BMP",
    b"\x93NUMPY": "NPY",
    b"PK\x03\x04": "ZIP/NPZ",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"P5": "PGM",
    b"P6": "PPM",
}
# Raw pixel buffers: gray or RGB frames and crops at the sizes this program uses.
RAW_SIZES = {w * h * c for w, h in [(640, 480), (320, 240), (160, 120), (48, 48), (64, 64), (96, 96), (128, 128)]
             for c in (1, 3, 4)}


SQLITE = b"SQLite format 3\x00"


def sqlite_blobs(path: Path) -> list[str]:
    """Binary values stored in an SQLite file (a page-sized database can match RAW_SIZES: look inside instead)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [f"{table}: {len(value)}-byte blob" for table in tables
                for row in db.execute(f'SELECT * FROM "{table}"') for value in row if isinstance(value, bytes)]
    finally:
        db.close()


def image_like(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as f:
            head = f.read(16)
        if head == SQLITE:  # the statistics file: text and numbers only, whatever its size
            found += [f"{path.relative_to(root)}: SQLite {blob}" for blob in sqlite_blobs(path)]
            continue
        kind = next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)
        if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI "):  # RIFF WAVE is the generated music
            kind = f"RIFF {head[8:12].decode().strip()}"
        if kind is None and path.stat().st_size in RAW_SIZES:
            kind = "raw pixel-sized blob"
        if kind:
            found.append(f"{path.relative_to(root)}: {kind}")
    return found


@pytest.fixture
def watched(tmp_path, monkeypatch) -> Path:
    """HOME, cwd and TMPDIR inside one fresh tree (the demo video lives outside it, in the repo)."""
    tree = tmp_path / "watched"
    for sub in ("home", "work", "tmp"):
        (tree / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tree / "home"))
    monkeypatch.setenv("TMPDIR", str(tree / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tree / "home" / ".cache"))
    monkeypatch.setattr(tempfile, "tempdir", None)  # in-process sessions: re-read TMPDIR, not the cached value
    monkeypatch.chdir(tree / "work")
    return tree


def test_the_scanner_finds_planted_images(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8), np.uint8))
    (tmp_path / "deep").mkdir()
    cv2.imwrite(str(tmp_path / "deep" / "b.jpg"), np.zeros((8, 8, 3), np.uint8))
    np.save(tmp_path / "crop.npy", np.zeros((48, 48), np.uint8))
    (tmp_path / "frame.bin").write_bytes(bytes(640 * 480 * 3))
    (tmp_path / "notes.txt").write_text("nothing to see")
    StatsRecorder(tmp_path / "stats.sqlite").record("happy")  # 12288 bytes, as a 64×64 RGB crop: only counts
    with sqlite3.connect(tmp_path / "faces.sqlite") as db:
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (?)", (bytes(48 * 48),))
    db.close()
    assert sorted(image_like(tmp_path)) == [
        "a.png: PNG", "crop.npy: NPY", "deep/b.jpg: JPEG", "faces.sqlite: SQLite t: 2304-byte blob",
        "frame.bin: raw pixel-sized blob"
    ]


def test_doctor_and_stats_write_no_images(watched):
    tree = watched
    db = tree / "work" / "stats.sqlite"
    StatsRecorder(db).record("happy")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "edge.cli", *args], env=env, cwd=tree / "work",
                              capture_output=True, text=True, timeout=180)

    doctor = cli("doctor", "--source", str(DEMO_VIDEO))
    assert doctor.returncode in (0, 1) and "Traceback" not in doctor.stdout + doctor.stderr, doctor.stderr
    assert doctor_rows(doctor.stdout)["camera"][0] == PASS, doctor.stdout  # it really read frames
    stats = cli("stats", "--db", str(db))
    assert stats.returncode == 0 and "Traceback" not in stats.stderr, stats.stdout + stats.stderr
    assert stats.stdout.splitlines()[-1].split()[-1] == "1", stats.stdout  # the total: the one count it read
    assert image_like(tree) == []


def test_pipeline_session_writes_no_images(watched, caplog):
    """The real pipeline and classifier on real faces until several frames were cropped and classified."""
    tree = watched
    classifier = Classifier(ClassifierOptions(model=DEFAULT_MODEL))
    with caplog.at_level(logging.WARNING, logger="edge"):
        with Pipeline(VideoFile(DEMO_VIDEO, loop=True, pace=True), classifier) as pipeline:
            with_face = []
            last, deadline = 0.0, time.monotonic() + 60  # generous: a hang, not speed, should reach it
            while len(with_face) < 5 and time.monotonic() < deadline:
                result = pipeline.wait_result(after=last, timeout=10)
                assert result is not None, "no new result within 10 s"
                last = result.timestamp
                if result.face_count:
                    with_face.append(result)
                pipeline.decide()
    assert len(with_face) == 5, f"{len(with_face)} results with a face in 60 s"
    assert all(r.smoothed is not None for r in with_face)  # classified, not only detected
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []  # e.g. "inference failed on frame …" would mean the crop/classify path never ran
    assert image_like(tree) == []


SESSION = """
import sys

from edge.config import ExhibitConfig
from edge.kiosk.stats import StatsRecorder
from edge.ui.app import ExhibitApp, make_vision

source, db, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
config = ExhibitConfig(source=source, fullscreen=False, statistics=True, statistics_path=db)
vision = make_vision(config, loop=True, pace=True)
recorder = StatsRecorder(config.statistics_path)  # as `emotions run` wires statistics


def on_decision(decision):
    recorder.on_decision(decision)
    print("decision", decision.emotion, flush=True)
    if decision.emotion is not None:  # counted: the statistics writer has run on a real decision
        app.exit_code = 0


def visitor():
    # recognise again and again (a "not sure" result goes straight back) until one emotion is sure
    if app.state_name == "attract":
        app.tap_button("recognize")
    elif app.state_name != "recognizing":
        app.go("attract")


app = ExhibitApp(config, vision, headless=True, on_decision=on_decision, heartbeat=visitor)
app.run(max_seconds=seconds)
"""


def test_exhibit_session_writes_no_images(watched):
    """The full app headless with statistics on, wired as `emotions run` wires it, on real faces, with a scripted
    visitor pressing "recognize" until one emotion was decided and counted."""
    tree = watched
    db = tree / "work" / "stats.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-c", SESSION, str(DEMO_VIDEO), str(db), "90"], env=env,
                          cwd=tree / "work", capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert sum(count for _, _, count in read_counts(db)) >= 1, done.stdout + done.stderr
    assert image_like(tree) == []
