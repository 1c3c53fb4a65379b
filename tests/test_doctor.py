"""`emotions doctor` on this machine (no camera, no display, no sound card): it reports and never crashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.kiosk.doctor import FAIL, PASS, WARN, check_disk, check_fonts, check_golden

ROOT = Path(__file__).resolve().parents[1]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def make_video(path: Path, frames: int = 40, size: tuple[int, int] = (160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, size)
    assert writer.isOpened()
    for i in range(frames):
        img = np.full((size[1], size[0], 3), 40, np.uint8)
        cv2.circle(img, (size[0] // 2 + i % 10, size[1] // 2), 30, (200, 180, 160), -1)
        writer.write(img)
    writer.release()
    return path


def headless_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER",
                                                            "SDL_AUDIODRIVER", "EMOTIONS_CONFIG")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", "doctor", *args], capture_output=True, text=True,
                          env=env or headless_env(), timeout=180, cwd=ROOT)


def rows(stdout: str) -> dict[str, tuple[str, str]]:
    out = {}
    for line in stdout.splitlines()[2:-1]:
        name, _, rest = line.partition("  ")
        status, _, detail = rest.strip().partition("  ")
        out[name.strip()] = (status.strip(), detail.strip())
    return out


def test_doctor_reports_every_check_and_fails_cleanly(tmp_path):
    video = make_video(tmp_path / "clip.avi")
    broken_model = tmp_path / "broken.tflite"
    broken_model.write_bytes(b"\x00" * 64)
    bad_config = tmp_path / "exhibit.toml"
    bad_config.write_text('language = "de"\n')
    done = doctor("--config", str(bad_config), "--source", str(video), "--model", str(broken_model))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    table = rows(done.stdout)
    assert set(table) >= {"config", "camera", "display", "audio", "tflite runtime", "model", "fonts", "disk"}
    assert table["config"][0] == FAIL and "'language'" in table["config"][1] and '"pl" or "en"' in table["config"][1]
    assert table["camera"][0] == PASS and "160×120" in table["camera"][1] and "FPS" in table["camera"][1]
    assert table["model"][0] == FAIL and "not a valid TFLite model" in table["model"][1]
    assert table["tflite runtime"] == (PASS, table["tflite runtime"][1]) and table["tflite runtime"][1]
    assert table["disk"][0] == PASS
    assert done.stdout.strip().splitlines()[-1].endswith("passed")


def test_doctor_without_camera_display_or_audio(tmp_path):
    # A camera device, a video driver and an audio driver that exist on no machine: the same FAIL rows everywhere.
    env = headless_env(SDL_VIDEODRIVER="nosuchdriver", SDL_AUDIODRIVER="nosuchdriver")
    done = doctor("--source", "/dev/video63", "--model", str(tmp_path / "missing.tflite"), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    table = rows(done.stdout)
    assert table["camera"][0] == FAIL and "/dev/video63" in table["camera"][1]
    assert table["model"][0] == FAIL and "cannot read model file" in table["model"][1]
    assert table["config"][0] == PASS  # no config file: the defaults
    assert table["display"][0] == FAIL and "no display (nosuchdriver)" in table["display"][1]
    assert table["audio"][0] == FAIL and "no audio output" in table["audio"][1]


def test_dummy_drivers_are_warnings_not_passes(tmp_path):
    video = make_video(tmp_path / "clip.avi")
    done = doctor("--source", str(video), env=headless_env(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))
    table = rows(done.stdout)
    assert table["display"][0] == WARN and "dummy" in table["display"][1]
    assert table["audio"][0] == WARN


def test_fonts_pass_with_polish_glyphs_and_fail_without(tmp_path):
    assert check_fonts(tmp_path / "none").status == FAIL
    if not DEJAVU.is_file():
        pytest.skip("DejaVuSans.ttf not installed (apt install fonts-dejavu-core)")
    good = tmp_path / "good"
    good.mkdir()
    (good / "DejaVuSans.ttf").write_bytes(DEJAVU.read_bytes())
    assert check_fonts(good).status == PASS
    subset = pytest.importorskip("fontTools.subset")
    bad = tmp_path / "bad"
    bad.mkdir()
    options = subset.Options()
    font = subset.load_font(str(DEJAVU), options)
    sub = subset.Subsetter(options)
    sub.populate(text="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzóÓ")  # Latin-1 ó only
    sub.subset(font)
    subset.save_font(font, str(bad / "Ascii.ttf"), options)
    result = check_fonts(bad)
    assert result.status == FAIL and "Ascii.ttf lacks ĄĆĘŁŃŚŹŻąćęłńśźż" in result.detail
    (bad / "junk.ttf").write_bytes(b"not a font")
    assert "junk.ttf: unreadable" in check_fonts(bad).detail


def test_shipped_fonts_have_polish_glyphs():
    fonts = ROOT / "assets" / "fonts"
    if not any(fonts.glob("*.ttf")):
        pytest.skip("no fonts bundled in assets/fonts yet")
    result = check_fonts(fonts)
    assert result.status == PASS, result.detail


class StubClassifier:
    """Stands in for the TFLite classifier to test the golden-check logic on real PNG files."""

    input_size = 48

    def __init__(self, probs: list[float]):
        self.probs = np.array([probs], np.float32)
        self.seen: list[tuple[int, ...]] = []

    def predict(self, crop: np.ndarray) -> np.ndarray:
        self.seen.append(crop.shape)
        return self.probs


def test_golden_check_logic(tmp_path):
    assert check_golden(StubClassifier([1 / 7] * 7), tmp_path / "none").status == WARN
    cv2.imwrite(str(tmp_path / "happy_01.png"), np.full((96, 96), 128, np.uint8))
    happy = [0.05, 0.0, 0.05, 0.7, 0.1, 0.05, 0.05]
    stub = StubClassifier(happy)
    assert check_golden(stub, tmp_path).status == PASS and stub.seen == [(48, 48)]  # resized to the input size
    sad = [0.05, 0.0, 0.05, 0.1, 0.1, 0.65, 0.05]
    result = check_golden(StubClassifier(sad), tmp_path)
    assert result.status == FAIL and "predicted sad" in result.detail and "expected happy" in result.detail
    result = check_golden(StubClassifier([0.9] * 7), tmp_path)
    assert result.status == FAIL and "not a probability vector" in result.detail
    result = check_golden(StubClassifier([float("nan")] * 7), tmp_path)
    assert result.status == FAIL


def test_real_model_golden_check():
    model = ROOT / "assets" / "models" / "emotion.tflite"
    golden = ROOT / "assets" / "golden"
    if not model.is_file() or not any(golden.glob("*.png")):
        pytest.skip("no shipped model and golden images yet (assets/models/emotion.tflite, assets/golden/*.png)")
    from edge.kiosk.doctor import check_model

    checks = check_model(model, golden)
    assert [c.status for c in checks] == [PASS, PASS], checks


def test_disk_check(tmp_path):
    assert check_disk([tmp_path / "not" / "yet"], min_free_mb=1).status == PASS
    assert check_disk([tmp_path], min_free_mb=10**12).status == FAIL


def test_busy_hint_only_for_cameras(tmp_path):
    """"stop the exhibit first" helps with a busy camera, not with a broken file or an empty folder."""
    from edge.kiosk.doctor import _probe_camera

    empty = tmp_path / "empty"
    empty.mkdir()
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    for source in (empty, fake):
        result = _probe_camera(str(source))
        assert result["ok"] is False and "stop it first" not in result["detail"], result
    result = _probe_camera("/dev/video63")
    assert result["ok"] is False and "stop it first" in result["detail"]


def test_deprecated_config_key_is_a_warning_row(tmp_path):
    from edge.kiosk.doctor import check_config

    path = tmp_path / "exhibit.toml"
    path.write_text("effects_volume = 0.5\n", encoding="utf-8")
    row, config = check_config(path)
    assert row.status == WARN and "'effects_volume' is no longer used" in row.detail
    path.write_text('detector = "bogus"\n', encoding="utf-8")
    row, _ = check_config(path)
    assert row.status == FAIL and "'detector'" in row.detail and '"haar"' in row.detail
