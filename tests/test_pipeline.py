"""The threaded pipeline on real video: results, dropped frames, camera loss and recovery."""

from __future__ import annotations

import shutil
import threading
import time

import cv2
import numpy as np
import pytest
from _waiting import wait_for

from edge.camera import ImageFolder, VideoFile
from edge.classify import Classifier, ClassifierOptions
from edge.detect import make_detector
from edge.pipeline import FrameProcessor, Pipeline, PipelineOptions
from edge.types import CameraState


@pytest.fixture(scope="module")
def classifier(tiny_model):
    return Classifier(ClassifierOptions(model=tiny_model))


def test_paced_video_gives_results_and_ends(face_video, classifier):
    pipeline = Pipeline(VideoFile(face_video, pace=True), classifier, detector="auto")
    assert pipeline.state == CameraState.STARTING
    with pipeline:
        assert wait_for(lambda: pipeline.latest()[1] is not None)
        frame, result = pipeline.latest()
        assert pipeline.state in (CameraState.OK, CameraState.ENDED)
        assert frame.image.shape == (480, 640, 3)
        assert result.gray_size == (640, 480)
        assert wait_for(lambda: pipeline.finished, timeout=8)
    assert pipeline.state == CameraState.ENDED
    assert pipeline.frames_captured == 30
    history = list(pipeline._history)
    with_face = [r for r in history if r.faces]
    assert len(with_face) >= 0.8 * 24 * pipeline.frames_processed / 30
    assert all(r.smoothed is not None and abs(r.smoothed.sum() - 1) < 0.05 for r in with_face)
    assert all({"detect", "crop", "classify", "total"} <= set(r.timings_ms) for r in history)
    assert not history[-1].faces  # the video ends on background only


class BlockingDetector:
    """The real detector, whose first call blocks until the test releases it (a stand-in for a slow inference)."""

    def __init__(self):
        self.inner, self.name = make_detector("auto"), "blazeface"
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0

    def detect(self, gray):
        self.calls += 1
        self.entered.set()
        assert self.release.wait(60), "the test never released the detector"
        return self.inner.detect(gray)


def test_the_ui_calls_return_while_inference_is_busy(face_video, classifier):
    detector = BlockingDetector()
    with Pipeline(VideoFile(face_video, loop=True, pace=True), classifier, detector=detector) as pipeline:
        try:
            assert detector.entered.wait(30), "inference never started"
            answers: list = []
            ui = threading.Thread(target=lambda: answers.append((pipeline.latest(), pipeline.decide(), pipeline.state)))
            ui.start()
            ui.join(timeout=10)  # generous: returning at all is the point, not how fast
            assert not ui.is_alive(), "latest()/decide() waited for the detector"
            (frame, result), decision, state = answers[0]
            assert frame is not None and result is None  # the frame is there; its result is still being computed
            assert decision.reason == "too few frames" and state == CameraState.OK
        finally:
            detector.release.set()


def test_frames_are_dropped_not_queued(face_video, classifier):
    """Inference is held on the first frame while capture reads the whole video: afterwards it processes only the
    newest frame, not the 29 that arrived meanwhile."""
    detector = BlockingDetector()
    with Pipeline(VideoFile(face_video, pace=False), classifier, detector=detector) as pipeline:
        try:
            assert detector.entered.wait(30), "inference never started"
            assert wait_for(lambda: pipeline.state == CameraState.ENDED, timeout=30)
            assert pipeline.frames_captured == 30 and pipeline.frames_processed == 0
        finally:
            detector.release.set()
        assert wait_for(lambda: pipeline.finished, timeout=30)
        frame, result = pipeline.latest()
    assert frame.index == 29  # the last frame of the video
    assert pipeline.frames_processed == 2  # the held frame, then straight to the newest one
    assert result.timestamp == frame.timestamp  # the last result is for the newest frame


def test_decide_says_no_face_on_an_empty_scene(tmp_path, backgrounds, classifier, make_face_video):
    video = make_face_video(tmp_path / "empty.avi", [], [backgrounds[4]], blank=30)  # brick wall, 2 s
    decisions = []
    with Pipeline(VideoFile(video, pace=True), classifier) as pipeline:
        # the first decision with enough frames to judge (until then it says "too few frames")
        assert wait_for(lambda: decisions.append(pipeline.decide(1.0)) or decisions[-1].frames >= 3, timeout=30)
    assert not decisions[-1].sure
    assert decisions[-1].reason == "no face"


def test_lost_camera_is_reported_and_comes_back(tmp_path, astronaut_gray, classifier):
    folder = tmp_path / "camera"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), astronaut_gray)
    source = ImageFolder(folder, loop=True, pace=True, seconds=0.05)
    options = PipelineOptions(backoff_s=(0.05, 0.2))
    with Pipeline(source, classifier, options=options) as pipeline:
        assert wait_for(lambda: pipeline.state == CameraState.OK and pipeline.latest()[1] is not None)
        assert pipeline.latest()[1].face_count == 1
        moved = tmp_path / "unplugged"
        folder.rename(moved)
        assert wait_for(lambda: pipeline.state == CameraState.LOST)
        assert "camera" in pipeline.last_error
        time.sleep(0.5)  # several failed reopen attempts; nothing crashes
        assert pipeline.running
        captured = pipeline.frames_captured
        moved.rename(folder)
        assert wait_for(lambda: pipeline.state == CameraState.OK and pipeline.frames_captured > captured + 2)
        last = pipeline.latest()[1].timestamp
        assert wait_for(lambda: pipeline.latest()[1].timestamp > last)  # inference resumed too
    shutil.rmtree(folder)


def bench_report(capsys, face_video, tiny_model, *extra: str) -> dict:
    import json

    from edge.cli import main

    argv = ["bench", "--source", str(face_video), "--frames", "20", "--json", "--model", str(tiny_model), *extra]
    assert main(argv) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("{")][-1]
    return json.loads(line)


def test_bench_reports_stage_latencies(capsys, face_video, tiny_model):
    report = bench_report(capsys, face_video, tiny_model)
    assert report["frames"] == 20
    assert 0 < report["total_ms_median"] <= report["total_ms_p95"]
    assert report["fps"] > 0 and report["peak_rss_mb"] > 0
    assert set(report["stages_ms"]) == {"capture", "detect", "crop", "classify", "total"}
    assert report["face_rate"] > 0.5  # 24 of the 30 frames show a face (the source loops)
    assert report["detect_every"] == 2 and report["views"] == "cycle"
    assert 0.5 <= report["detector_rate"] < 1  # boxes shared on tracked frames, never on empty ones


def test_bench_reports_the_peer(capsys, face_video, tiny_model):
    pytest.importorskip("fer", reason="the peer comparison needs the `fer` package (not part of the edge install)")
    report = bench_report(capsys, face_video, tiny_model, "--peer")
    assert report["peer_total_ms_median"] > 0
    assert report["speedup"] == pytest.approx(report["peer_total_ms_mean"] / report["total_ms_mean"], rel=0.05)


def test_watch_prints_decisions_until_the_video_ends(capsys, face_video, tiny_model):
    import json

    from edge.cli import main

    assert main(["watch", "--source", str(face_video), "--json", "--every", "0.5", "--model", str(tiny_model)]) == 0
    reports = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert reports and reports[-1]["state"] == "ended"
    assert all({"fps", "inference_fps", "faces", "emotion", "confidence", "reason"} <= set(r) for r in reports)


def test_watch_with_a_bad_source_is_one_line(capsys, tiny_model):
    from edge.cli import main

    assert main(["watch", "--source", "no-such-thing", "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "unknown --source" in err


class CountingDetector:
    """The real detector, counting how often it runs."""

    def __init__(self):
        self.inner, self.name, self.calls = make_detector("auto"), "blazeface", 0

    def detect(self, gray):
        self.calls += 1
        return self.inner.detect(gray)


def _frames(video):
    with VideoFile(video, pace=False) as source:
        while (frame := source.read()) is not None:
            yield frame.gray


def test_tracked_face_shares_boxes_and_empty_frames_are_always_detected(face_video, classifier):
    from edge.crop import resolve_crop

    frames = list(_frames(face_video))
    counts = {}
    for every in (1, 2, 3):
        detector = CountingDetector()
        crop = resolve_crop(classifier.spec.crop, detector.name)
        process = FrameProcessor(detector, classifier, crop, detect_every=every, views="plain")
        found = [bool(process(gray)[0]) for gray in frames]
        counts[every] = (detector.calls, sum(found))
    assert counts[1][0] == len(frames)
    # the video ends on 6 background frames: those are detected on every frame whatever N is
    assert counts[1][0] > counts[2][0] > counts[3][0] >= 24 // 3 + 5  # 24 face frames
    assert abs(counts[2][1] - counts[1][1]) <= 2  # boxes reused one frame late still find the same faces


def test_cycled_views_average_to_all_views_over_frames(face_video, tiny_model):
    from edge.crop import resolve_crop

    classifier = Classifier(ClassifierOptions(model=tiny_model, flip_average=True, zoom_views=(1.1,)))
    gray = next(g for g in _frames(face_video) if make_detector("auto").detect(g))
    detector = make_detector("auto")
    crop = resolve_crop(classifier.spec.crop, detector.name)
    cycle = FrameProcessor(detector, classifier, crop, detect_every=1, views="cycle")
    seen = [cycle(gray)[0][0].scores for _ in range(5)]
    average = FrameProcessor(detector, classifier, crop, detect_every=1, views="average")(gray)[0][0].scores
    plain = FrameProcessor(detector, classifier, crop, detect_every=1, views="plain")(gray)[0][0].scores
    assert all(not np.allclose(a, b, atol=1e-4) for i, a in enumerate(seen[:4]) for b in seen[i + 1:4])  # 4 views
    np.testing.assert_allclose(np.mean(seen[:4], axis=0), average, atol=1e-5)
    np.testing.assert_allclose(seen[0], plain, atol=1e-6)  # plain first, and the cycle starts over after four
    np.testing.assert_allclose(seen[4], plain, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"detect_every": 0}, {"views": "sideways"}])
def test_frame_processor_refuses_bad_options(classifier, kwargs):
    with pytest.raises(ValueError):
        FrameProcessor(make_detector("auto"), classifier, classifier.spec.crop, **kwargs)


@pytest.fixture(scope="module")
def shipped_classifier():
    from edge.classify import DEFAULT_MODEL

    return Classifier(ClassifierOptions(model=DEFAULT_MODEL))


def test_a_source_that_never_works_is_logged_once_and_retried_less_and_less(tmp_path, shipped_classifier, caplog):
    """`emotions run` keeps retrying a lost camera (it may come back), but one line per distinct failure, and with
    a growing interval up to the longest back-off."""
    assert PipelineOptions().backoff_s[1] >= 30  # the exhibit's default: at most one attempt every 30 s
    empty = tmp_path / "empty"
    empty.mkdir()
    source = ImageFolder(empty, loop=True)
    opens: list[float] = []
    original_open = source._open

    def counting_open():
        opens.append(time.monotonic())
        original_open()

    source._open = counting_open  # the real open, timed
    with caplog.at_level("WARNING", logger="edge.pipeline"):
        with Pipeline(source, shipped_classifier, options=PipelineOptions(backoff_s=(0.02, 0.32))) as pipeline:
            assert wait_for(lambda: len(opens) >= 6, 10.0)
            assert pipeline.state == CameraState.LOST and pipeline.running
            assert pipeline.wait_started() == CameraState.LOST
    lost = [r.getMessage() for r in caplog.records if "camera lost" in r.getMessage()]
    assert len(lost) == 1 and "no images" in lost[0], lost
    gaps = np.diff(opens)
    assert gaps[3] > gaps[0] * 3  # backing off: 0.02, 0.04, 0.08, 0.16…
