"""The exhibit's state machine with scripted input and a fake clock (pygame on SDL's dummy drivers)."""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("EMOTIONS_MUSIC_DIR", tempfile.mkdtemp(prefix="emotions-music-"))

import argparse  # noqa: E402

import pygame  # noqa: E402
import pytest  # noqa: E402
from ui_fakes import FakeClock, ScriptedVision  # noqa: E402

from edge.config import ActivityConfig, ExhibitConfig  # noqa: E402
from edge.types import Decision  # noqa: E402
from edge.ui import app as app_module  # noqa: E402
from edge.ui.app import ExhibitApp  # noqa: E402

SCENES = ["recognizing", "result", "chooser", "closing", "dance", "support", "breathing", "mentor", "rorschach",
          "calm"]
DT = 1 / 30


def key(k: int, mod: int = 0) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod)


@pytest.fixture
def make_app():
    def factory(decisions=None, face=True, **config_changes):
        clock = FakeClock()
        vision = ScriptedVision(decisions, face=face, clock=clock)
        config = ExhibitConfig(**{"fullscreen": False, "idle_timeout_s": 20.0, "recognize_seconds": 1.5,
                                  **config_changes})
        seen: list[Decision] = []
        app = ExhibitApp(config, vision, screen_size=(800, 480), headless=True, clock=clock, on_decision=seen.append)
        app.test_clock, app.test_decisions = clock, seen
        app.step(DT)  # draw once so buttons exist
        return app
    return factory


def run_for(app: ExhibitApp, seconds: float, dt: float = DT) -> None:
    for _ in range(int(round(seconds / dt))):
        app.test_clock.advance(dt)
        app.step(dt)


def tap(app: ExhibitApp, action: str) -> None:
    assert app.tap_button(action), f"no button {action!r} in {app.state_name}: {[b.action for b in app.scene.buttons]}"
    app.step(DT)


def test_happy_path_attract_to_activity_to_closing_and_back(make_app):
    app = make_app([Decision("happy", 0.91, {"happy": 0.91}, "", 20)], recognize_seconds=1.0,
                   activities=ActivityConfig(dance_seconds=6.0))
    assert app.state_name == "attract"
    assert app.music.current == "attract"
    tap(app, "recognize")
    assert app.state_name == "recognizing"
    run_for(app, 0.5)
    assert app.state_name == "recognizing" and not app.test_decisions
    run_for(app, 0.6)
    assert app.state_name == "result"
    assert app.scene.decision.emotion == "happy"
    assert [d.emotion for d in app.test_decisions] == ["happy"]  # on_decision once per recognition
    assert app.vision.windows == [1.0]  # the pipeline decides over the countdown window
    tap(app, "start")
    assert app.state_name == "dance"
    assert app.music.current == "happy"
    tap(app, "start")
    run_for(app, 3.25 + app.config.activities.dance_seconds, dt=0.25)
    assert app.scene.stage == "final"
    tap(app, "share")
    assert app.scene.stage == "share"
    tap(app, "finish")
    assert app.state_name == "closing"
    run_for(app, 10.5, dt=0.25)
    assert app.state_name == "attract"


def test_space_recognises_and_not_sure_offers_retry_and_choice(make_app):
    app = make_app([Decision(None, 0.3, {}, "low confidence", 9), Decision("sad", 0.8, {}, "", 9)])
    app.inject(key(pygame.K_SPACE))
    app.step(DT)
    assert app.state_name == "recognizing"
    run_for(app, 1.6)
    assert app.state_name == "result" and app.scene.emotion is None
    assert {b.action for b in app.scene.buttons} == {"again", "choose"}
    assert not app.tap_button("start")
    tap(app, "again")
    assert app.state_name == "recognizing"
    run_for(app, 1.6)
    assert app.scene.decision.emotion == "sad"
    tap(app, "start")
    assert app.state_name == "support"
    app.go("result", decision=Decision(None, 0.2, {}, "no face"))
    app.step(DT)
    tap(app, "choose")
    assert app.state_name == "chooser"
    tap(app, "fear")
    assert app.state_name == "mentor"


@pytest.mark.parametrize("index,scene", [(0, "breathing"), (1, "rorschach"), (2, "mentor"), (3, "dance"),
                                         (4, "calm"), (5, "support"), (6, "calm")])
def test_number_keys_pick_emotions_in_label_order(make_app, index, scene):
    app = make_app()
    app.inject(key(pygame.K_1 + index))
    app.step(DT)
    assert app.state_name == scene


@pytest.mark.parametrize("scene", SCENES)
def test_idle_timeout_returns_to_attract_from_every_scene(make_app, scene):
    app = make_app(face=False)
    app.go(scene, emotion="neutral") if scene in ("calm", "closing") else app.go(scene)
    app.step(DT)
    if scene == "recognizing":
        assert app.state_name in ("recognizing", "result")
    app.test_clock.advance(19.0)
    app.step(DT)
    assert app.state_name != "attract" or scene == "closing"
    app.test_clock.advance(1.5)
    app.step(DT)
    assert app.state_name == "attract"


def test_a_face_in_view_keeps_the_activity_alive(make_app):
    app = make_app(face=True)
    app.go("mentor")
    app.test_clock.advance(120)
    app.step(DT)
    assert app.state_name == "mentor"


@pytest.mark.parametrize("scene", ["attract", "recognizing", "dance"])
def test_a_lost_camera_shows_the_camera_lost_text_not_its_last_frame(make_app, drawn_texts, monkeypatch, scene):
    """The Pipeline keeps its last frame after a loss: the preview must not freeze on it (with a stale face box)."""
    from edge.types import CameraState
    from edge.ui.scenes.base import Preview

    app = make_app()
    app.go(scene)
    if scene == "dance":
        app.scene.start()  # the stage with the camera preview
    blits: list[int] = []
    real_surface = Preview.surface

    def counting_surface(self, frame, size):
        blits.append(frame.index)
        return real_surface(self, frame, size)

    monkeypatch.setattr(Preview, "surface", counting_surface)  # the picture (and face box) is drawn only after it
    lost, found = app.content.t("attract.camera_lost"), app.content.t("attract.face_found")
    drawn_texts.clear()
    app.step(DT)
    assert blits and lost not in drawn_texts  # camera OK: the live picture, no camera-lost text
    if scene == "attract":
        assert found in drawn_texts
    for state in (CameraState.LOST, CameraState.ENDED):
        app.vision._state = state
        assert app.vision.latest()[0] is not None  # a frame is still there, as in the Pipeline
        blits.clear()
        drawn_texts.clear()
        app.step(DT)
        assert lost in drawn_texts, (state, drawn_texts)
        assert not blits and found not in drawn_texts, state
    app.vision._state = CameraState.OK  # the camera is back
    drawn_texts.clear()
    app.step(DT)
    assert blits and lost not in drawn_texts


def test_a_lost_cameras_last_face_does_not_keep_the_activity_alive(make_app):
    from edge.types import CameraState

    app = make_app(face=True)
    app.go("mentor")
    app.vision._state = CameraState.LOST  # its last result still holds a face
    app.test_clock.advance(21)
    app.step(DT)
    assert app.state_name == "attract"


@pytest.mark.parametrize("scene", SCENES)
def test_escape_always_leads_home(make_app, scene):
    app = make_app()
    app.go(scene)
    app.step(DT)
    app.inject(key(pygame.K_ESCAPE))
    app.step(DT)
    assert app.state_name == "attract"
    app.inject(key(pygame.K_ESCAPE))
    app.step(DT)
    assert app.state_name == "attract" and app.exit_code is None  # Esc never quits the exhibit


def test_staff_combination_quits_run_with_zero_and_heartbeats(make_app):
    app = make_app()
    beats = []
    app.heartbeat = lambda: beats.append(1)
    app.inject(key(pygame.K_q))  # plain Q does nothing
    app.inject(key(pygame.K_q, pygame.KMOD_CTRL))
    assert app.run(max_seconds=0.0) == 0 and app.exit_code is None
    app.inject(key(pygame.K_q, pygame.KMOD_LCTRL | pygame.KMOD_LSHIFT))
    assert app.run(max_seconds=None) == 0
    assert app.exit_code == 0
    assert app.vision.calls.count("start") == 2 and app.vision.calls.count("stop") == 2
    assert beats


def test_language_key_and_button_switch_texts(make_app):
    app = make_app(language="pl")
    assert app.content.t("attract.button") == "Rozpoznaj emocję"
    app.inject(key(pygame.K_l))
    app.step(DT)
    assert app.content.lang == "en"
    tap(app, "language")
    assert app.content.lang == "pl"


def test_a_failing_scene_logs_and_returns_to_attract(make_app, monkeypatch, caplog):
    app = make_app()
    app.go("mentor")

    def boom(surface):
        raise ZeroDivisionError("bug")
    monkeypatch.setattr(app.scene, "draw", boom)
    app.step(DT)
    assert app.state_name == "attract"
    assert "failed" in caplog.text


def test_each_activity_can_be_finished_by_touch(make_app):
    app = make_app()
    app.go("mentor")
    app.step(DT)
    for _ in range(8):  # always take the first option: the tree must end within a few answers
        if app.state_name != "mentor" or app.scene.nodes[app.scene.node].get("end"):
            break
        tap(app, "opt0")
    assert app.scene.nodes[app.scene.node].get("end")
    tap(app, "finish")
    assert app.state_name == "closing"

    app.go("rorschach", seed=3)
    app.step(DT)
    for _ in range(3):
        tap(app, "opt1")
    assert app.scene.game.finished
    tap(app, "finish")
    assert app.state_name == "closing"

    app.go("support")
    app.step(DT)
    tap(app, "affirmation")
    tap(app, "better")
    tap(app, "finish")
    assert app.state_name == "closing"

    app.go("breathing")
    app.step(DT)
    tap(app, "start")
    assert app.scene.stage == "breathe"
    tap(app, "stop")
    tap(app, "finish")
    assert app.state_name == "closing"

    app.go("calm", emotion="surprise")
    app.step(DT)
    assert app.music.current == "surprise" or app.music.current == "calm"
    tap(app, "pick")
    assert app.state_name == "chooser"


def test_breathing_session_ends_by_itself(make_app):
    app = make_app(face=True, activities=ActivityConfig(breathing_minutes=0.5))
    app.go("breathing")
    run_for(app, 6.25, dt=0.25)
    assert app.scene.stage == "breathe"
    run_for(app, 29.0, dt=0.25)
    assert app.scene.stage == "breathe"  # ends on a whole breath: 3 cycles of 10 s
    run_for(app, 1.25, dt=0.25)
    assert app.scene.stage == "done"


def test_run_without_pipeline_fails_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "edge.pipeline", None)  # as if the module did not exist
    args = argparse.Namespace(source=None, windowed=True, lang="en", config=None, screenshots=None)
    assert app_module.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("emotions run: error:") and "\n" not in err


def test_status_line_says_demo_video_not_camera():
    from edge.camera import DEMO_VIDEO, OpenCVDevice, VideoFile
    from edge.classify import DEFAULT_MODEL, Classifier
    from edge.pipeline import Pipeline
    from edge.types import CameraState
    from edge.ui.app import source_label

    classifier = Classifier(model=DEFAULT_MODEL)
    with Pipeline(VideoFile(DEMO_VIDEO, loop=True, pace=True), classifier) as demo:
        assert demo.wait_started() == CameraState.OK
        assert source_label(demo) == "demo video"
    assert source_label(Pipeline(OpenCVDevice(9), classifier)) == "camera starting"


def test_run_without_any_display_still_prints_status(tmp_path):
    """No SDL_VIDEODRIVER and no display: SDL quietly picks "offscreen"; the run must say it is headless."""
    import signal
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY",
                                                            "EMOTIONS_CONFIG")}
    env.update(PYTHONPATH=str(root), SDL_AUDIODRIVER="dummy")
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "--source", "demo", "--windowed"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if "no display (SDL video driver" in line or "emotions run: error" in line:
                break
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert any("no display (SDL video driver offscreen)" in line for line in lines), "".join(lines)
    assert proc.returncode == 0


def test_ui_bench_with_a_very_short_run_still_measures():
    from edge.ui.bench import bench_ui

    result = bench_ui(seconds=1e-6, size=(320, 240), scenes=(("attract", {}),))  # a still photo as the camera
    assert result["attract"]["frames"] >= 2 and result["attract"]["median_ms"] > 0
