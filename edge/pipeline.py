"""The real-time vision pipeline: capture thread → one latest-frame slot → inference worker →
latest result. Frames are dropped, never queued (inference always works on the newest frame, so
the answer is never older than one inference); the UI only reads the slots and never waits.

A camera that fails is closed, reported as CameraState.LOST and reopened with exponential
back-off (0.5 s … 30 s) until it answers again, logging each distinct failure once (an unplugged
camera overnight must not fill the journal); a finite source that runs out is ENDED.

On a video stream two costs can be shared between neighbouring frames (`FrameProcessor`):
- the face box: a visitor moves a few pixels in 33 ms, so while a face is tracked the detector
  runs on every `detect_every`-th frame and the frames between reuse its boxes (a frame without
  a tracked face is always detected in full);
- the test-time views (edge/views.py: plain, mirror, zoomed…): instead of classifying every crop
  once per view, each frame is classified on the next view in turn, and the temporal smoothing
  averages them.
A single image (`process`, `emotions classify`) gets neither shortcut.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from edge.camera import CameraError, Source, parse_source
from edge.crop import crop_faces, resolve_crop
from edge.detect import Detector, make_detector
from edge.modelfile import CropSpec
from edge.smooth import DecideOptions, EmaSmoother, decide
from edge.types import CameraState, Decision, Face, Frame, FrameResult
from edge.views import TestTimeViews

log = logging.getLogger(__name__)


VIEW_MODES = ("cycle", "average", "plain")


@dataclass(frozen=True)
class PipelineOptions:
    max_faces: int = 3  # classify at most this many (largest/most central first)
    detect_every: int = 2  # while a face is tracked, run the detector on every N-th frame (1 = every frame)
    # The classifier's test-time views: cycle = one per frame, in turn | average = all on every frame |
    # plain = the plain crop only
    views: str = "cycle"
    history_s: float = 6.0  # results kept for decide()
    backoff_s: tuple[float, float] = (0.5, 30.0)  # first and longest wait between reopen attempts
    decide: DecideOptions = DecideOptions()


STABLE_CAMERA_S = 10.0  # frames for this long after a loss: the next loss is retried quickly again


def backoff_waits(first: float, longest: float) -> Iterator[float]:
    """The waits between reopen attempts of a lost camera: `first`, doubling, then `longest` for ever
    (a camera back in seconds is found fast; one unplugged overnight costs one attempt every `longest` s)."""
    wait = first
    while True:
        yield wait
        wait = min(longest, wait * 2)


def process(gray: np.ndarray, detector: Detector, classifier, crop: CropSpec, max_faces: int = 3):
    """Detect, crop and classify one grayscale image on its own (all of the classifier's test-time views):
    (faces largest/most central first, stage ms)."""
    return FrameProcessor(detector, classifier, crop, max_faces, detect_every=1, views="average")(gray)


class FrameProcessor:
    """`process` for consecutive frames of one stream, sharing face boxes and mirror views between them
    and test-time views between them (see the module doc). Call it with each new grayscale frame; it returns
    (faces, stage ms)."""

    def __init__(self, detector: Detector, classifier, crop: CropSpec, max_faces: int = 3, detect_every: int = 2,
                 views: str = "cycle"):
        if detect_every < 1:
            raise ValueError(f"detect_every must be ≥ 1, got {detect_every}")
        if views not in VIEW_MODES:
            raise ValueError(f"views must be one of {', '.join(VIEW_MODES)}, got {views!r}")
        self.detector, self.classifier, self.crop = detector, classifier, crop
        self.max_faces, self.detect_every, self.views = max_faces, detect_every, views
        self._tracked: list = []  # the last detections, while a face is in view
        self._tracked_shape: tuple[int, ...] = ()
        self._age = 0  # frames since the detector last ran
        self._view = -1  # the view the last frame was classified on (cycle)

    def __call__(self, gray: np.ndarray) -> tuple[tuple[Face, ...], dict[str, float]]:
        t0 = time.perf_counter()
        reuse = bool(self._tracked) and self._age < self.detect_every - 1 and gray.shape == self._tracked_shape
        if reuse:
            found = self._tracked
            self._age += 1
        else:
            found = self.detector.detect(gray)[: self.max_faces]
            self._tracked, self._tracked_shape, self._age = found, gray.shape, 0
        t1 = time.perf_counter()
        crops = crop_faces(gray, found, self.crop, self.classifier.input_size)
        t2 = time.perf_counter()
        if not len(crops):
            probs = np.zeros((0, len(self.classifier.labels)), np.float32)
        elif self.views == "cycle":
            self._view = (self._view + 1) % self.classifier.views.count
            probs = self.classifier.predict_view(crops, self._view)
        else:
            probs = self.classifier.predict(crops, None if self.views == "average" else TestTimeViews())
        t3 = time.perf_counter()
        faces = tuple(
            Face(box=tuple(int(round(v)) for v in d.box), scores=p, detector_score=d.score)
            for d, p in zip(found, probs)
        )
        ms = {"detect": (t1 - t0) * 1e3, "crop": (t2 - t1) * 1e3, "classify": (t3 - t2) * 1e3,
              "total": (t3 - t0) * 1e3, "detected": float(not reuse)}  # detected: 1 when the detector ran
        return faces, ms


class Pipeline:
    """Implements edge.types.VisionSource."""

    def __init__(
        self,
        source: Source | str | Callable[[], Source],
        classifier,
        detector: Detector | str = "auto",
        crop: CropSpec | None = None,
        smoother: EmaSmoother | None = None,
        options: PipelineOptions = PipelineOptions(),
    ):
        if isinstance(source, str):
            source = parse_source(source)
        self._source_factory = source if callable(source) and not isinstance(source, Source) else None
        self._source: Source | None = source if isinstance(source, Source) else None
        self.classifier = classifier
        self.detector = make_detector(detector) if isinstance(detector, str) else detector
        self.crop = crop if crop is not None else resolve_crop(classifier.spec.crop, self.detector.name)
        self.smoother = smoother or EmaSmoother()
        self.options = options
        self.processor = FrameProcessor(self.detector, classifier, self.crop, options.max_faces,
                                        options.detect_every, options.views)
        self._state = CameraState.STARTING
        self.last_error = ""
        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._frame: Frame | None = None
        self._frame_seq = 0
        self._result: FrameResult | None = None
        self._history: deque[FrameResult] = deque()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.frames_captured = 0
        self.frames_processed = 0
        self._processed_seq = 0

    # --- VisionSource ---
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._capture_loop, name="capture", daemon=True),
            threading.Thread(target=self._inference_loop, name="inference", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._new_frame:
            self._new_frame.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self._source is not None:
            self._source.close()

    @property
    def state(self) -> CameraState:
        return self._state

    def latest(self) -> tuple[Frame | None, FrameResult | None]:
        with self._lock:
            return self._frame, self._result

    def decide(self, window_s: float = 1.5) -> Decision:
        with self._lock:
            history = list(self._history)
        return decide(history, time.monotonic(), window_s, self.classifier.labels, self.options.decide)

    # --- extras ---
    @property
    def source(self) -> Source | None:
        """The frame source (None until a factory has made it)."""
        return self._source

    def wait_started(self, timeout: float = 15.0) -> CameraState:
        """Block until the source delivered a frame, failed or ended (tools that must not wait forever)."""
        deadline = time.monotonic() + timeout
        while self._state == CameraState.STARTING and time.monotonic() < deadline and self.running:
            time.sleep(0.01)
        return self._state

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def __enter__(self) -> Pipeline:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_result(self, after: float = 0.0, timeout: float = 5.0) -> FrameResult | None:
        """Block until a result newer than `after` exists (for tools and tests; the UI never calls it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._result
            if result is not None and result.timestamp > after:
                return result
            if self.finished:
                return None
            time.sleep(0.005)
        return None

    @property
    def finished(self) -> bool:
        """A finite source has ended and its last frame has been processed."""
        with self._lock:
            return self._state == CameraState.ENDED and self._processed_seq == self._frame_seq

    # --- threads ---
    def _set_state(self, state: CameraState, error: str = "") -> None:
        if state == CameraState.LOST and (self._state != CameraState.LOST or error != self.last_error):
            log.warning("camera lost: %s (retrying, up to every %.0f s)", error, self.options.backoff_s[1])
        elif state == CameraState.OK and self._state == CameraState.LOST:
            log.info("camera back")
        self._state, self.last_error = state, error

    def _capture_loop(self) -> None:
        waits = backoff_waits(*self.options.backoff_s)
        ok_since: float | None = None  # when frames started coming again after the last loss
        while not self._stop.is_set():
            try:
                if self._source is None:
                    self._source = self._source_factory()
                frame = self._source.read()  # opens the source when needed
            except CameraError as err:
                # The back-off starts short again only after the camera had stayed up a while: one that gives a
                # frame and fails again (a loose cable) keeps backing off instead of reopening twice a second.
                if ok_since is not None and time.monotonic() - ok_since >= STABLE_CAMERA_S:
                    waits = backoff_waits(*self.options.backoff_s)
                ok_since = None
                self._set_state(CameraState.LOST, str(err))
                if self._source is not None:
                    self._source.close()
                if self._stop.wait(next(waits)):
                    break
                continue
            if frame is None:
                self._set_state(CameraState.ENDED)
                break
            if ok_since is None:
                ok_since = time.monotonic()
            self._set_state(CameraState.OK)
            with self._new_frame:
                self._frame = frame  # overwrite: the slot holds only the newest frame
                self._frame_seq += 1
                self.frames_captured += 1
                self._new_frame.notify()
        with self._new_frame:
            self._new_frame.notify_all()

    def _inference_loop(self) -> None:
        seen = 0
        while not self._stop.is_set():
            with self._new_frame:
                while self._frame_seq == seen and not self._stop.is_set():
                    if self._state == CameraState.ENDED:
                        return
                    self._new_frame.wait(0.1)
                if self._stop.is_set():
                    return
                frame, seen = self._frame, self._frame_seq
            try:
                result = self._infer(frame)
            except Exception:  # noqa: BLE001 - one bad frame must not stop the exhibit; log it in full
                log.exception("inference failed on frame %d", frame.index)
                result = None
            with self._lock:
                if result is not None:
                    self._result = result
                    self._history.append(result)
                    while self._history and result.timestamp - self._history[0].timestamp > self.options.history_s:
                        self._history.popleft()
                    self.frames_processed += 1
                self._processed_seq = seen

    def _infer(self, frame: Frame) -> FrameResult:
        faces, ms = self.processor(frame.gray)
        smoothed = self.smoother.update(faces[0].scores if faces else None, frame.timestamp)
        if not faces:
            smoothed = None
        h, w = frame.gray.shape[:2]
        return FrameResult(frame.timestamp, faces, smoothed, (w, h), ms)
