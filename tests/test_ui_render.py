"""Every scene and activity step renders under SDL's dummy driver, in both languages, with no text
overflowing its box at 800×480; --screenshots writes real PNG files."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("EMOTIONS_MUSIC_DIR", tempfile.mkdtemp(prefix="emotions-music-"))

import argparse  # noqa: E402

import pygame  # noqa: E402
import pytest  # noqa: E402

from edge.config import ExhibitConfig  # noqa: E402
from edge.ui import widgets  # noqa: E402
from edge.ui.app import ExhibitApp, main  # noqa: E402
from edge.ui.screenshots import PLAN, iter_states  # noqa: E402
from edge.ui.stills import StillVision  # noqa: E402


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_every_state_renders_at_800x480_without_overflow(lang, caplog):
    widgets.OVERFLOWS.clear()
    app = ExhibitApp(ExhibitConfig(language=lang, fullscreen=False, music_volume=0.0), StillVision(),
                     screen_size=(800, 480), headless=True)
    labels = []
    for label in iter_states(app):
        labels.append(label)
        expected = next(scene for scene, _, name in PLAN if label.startswith(name + "-"))
        assert app.state_name == expected, f"{label} fell back to {app.state_name}: {caplog.text[-500:]}"
        # not a blank screen: many distinct colours
        small = pygame.transform.scale(app.screen, (80, 48))
        assert len({small.get_at((x, y))[:3] for x in range(80) for y in range(48)}) > 20, label
    assert len(labels) >= 40
    assert list(widgets.OVERFLOWS) == []
    assert "failed" not in caplog.text


def test_screenshots_command_writes_pngs_for_both_sizes(tmp_path, monkeypatch):
    from edge.ui import screenshots

    monkeypatch.setattr(screenshots, "PLAN", screenshots.PLAN[:3] + screenshots.PLAN[-1:])  # keep the test fast
    args = argparse.Namespace(source=None, windowed=False, lang=None, config=None, screenshots=tmp_path)
    assert main(args) == 0
    files = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "800x480-pl-attract-main.png" in files and "1920x1080-en-closing-main.png" in files
    assert len(files) == 2 * 2 * 4  # sizes × languages × states
    img = pygame.image.load(str(tmp_path / "1920x1080-pl-result-sure-main.png"))
    assert img.get_size() == (1920, 1080)
