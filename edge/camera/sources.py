"""OpenCV device, video file and image-folder sources, `parse_source` and `--source auto`."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from edge.camera.base import CameraError, Source, SourceError
from edge.types import Frame

log = logging.getLogger(__name__)

# FFmpeg's own messages ("moov atom not found") would be printed on every reopen attempt of a broken video,
# and CameraError already says what is wrong. Read by OpenCV when it first opens a video; set yours to debug.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings (V4L2 "can't open camera by index", twice per attempt) while opening:
    a lost camera is retried for hours and our one-line CameraError says the same. Kept with -v (debug)."""
    if log.isEnabledFor(logging.DEBUG) or not hasattr(cv2, "setLogLevel"):
        yield
        return
    previous = cv2.getLogLevel()
    cv2.setLogLevel(0)  # LOG_LEVEL_SILENT
    try:
        yield
    finally:
        cv2.setLogLevel(previous)

VIDEO_EXTENSIONS = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mjpg", ".mjpeg"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
DEMO_VIDEO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "demo.mp4"


def _from_bgr(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB), bgr
    if bgr.shape[2] == 4:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


class OpenCVDevice(Source):
    """A V4L2 camera by index (`0`) or device path (`/dev/video0`)."""

    def __init__(self, device: int | str, size: tuple[int, int] = (640, 480), fps: float = 30.0):
        super().__init__(pace=False, fps=fps)  # a camera paces itself
        self.device, self.size = device, size
        self.name = str(device)
        self._cap: cv2.VideoCapture | None = None

    def _open(self) -> None:
        if isinstance(self.device, str) and not os.path.exists(self.device):
            raise CameraError(f"camera {self.device} not found (unplugged?)")
        with quiet_opencv():
            cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"camera {self.device} cannot be opened (missing, or busy in another program?)")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of stale ones
        self._cap = cap

    def _read(self) -> Frame:
        ok, bgr = self._cap.read() if self._cap is not None else (False, None)
        if not ok or bgr is None:
            raise CameraError(f"camera {self.device} stopped delivering frames (unplugged?)")
        return self._frame(*_from_bgr(bgr))

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFile(Source):
    """A video file, optionally looped; decoded with OpenCV."""

    def __init__(self, path: str | Path, loop: bool = False, pace: bool = False):
        super().__init__(pace=pace)
        self.path, self.loop = Path(path), loop
        self.name = str(path)
        self.finite = not loop
        self._cap: cv2.VideoCapture | None = None

    def _open(self) -> None:
        if not self.path.is_file():
            raise CameraError(f"video {self.path} not found")
        with quiet_opencv():
            cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"video {self.path} cannot be decoded (not a video, or an unsupported codec)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 30.0
        self._cap = cap

    def _read(self) -> Frame | None:
        ok, bgr = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = self._cap.read()
            if not ok:  # rewinding failed (some containers): reopen
                self._close()
                self._open()
                ok, bgr = self._cap.read()
        if not ok:
            if self._index == 0:
                raise CameraError(f"video {self.path} has no decodable frames")
            return None
        return self._frame(*_from_bgr(bgr))

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageFolder(Source):
    """A slideshow of the images in a folder (sorted, recursive) or of one image file.

    Unreadable images are skipped with a warning, once per file (a known-bad file is not decoded again until
    it changes: a retried folder of broken images must not repeat the same lines); a folder that disappears
    is a CameraError.
    When paced, each image is shown for `seconds` (as repeated frames, like a still camera).
    """

    def __init__(self, path: str | Path, loop: bool = False, pace: bool = False, seconds: float = 2.0):
        super().__init__(pace=pace, fps=10.0)
        self.path, self.loop, self.seconds = Path(path), loop, seconds
        self.name = str(path)
        self.finite = not loop
        self._files: list[Path] = []
        self._pos = 0
        self._current: tuple[np.ndarray, np.ndarray] | None = None
        self._repeats = 0
        self._bad: dict[Path, tuple[int, int]] = {}  # unreadable file → (mtime_ns, size) when found unreadable

    def _signature(self, path: Path) -> tuple[int, int]:
        try:
            st = path.stat()
        except OSError:
            return (-1, -1)
        return (st.st_mtime_ns, st.st_size)

    def _load(self, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
        """The image, or None when unreadable (warned the first time only)."""
        signature = self._signature(path)
        if self._bad.get(path) == signature:
            return None
        bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if bgr is None or bgr.dtype != np.uint8:
            log.warning("skipping unreadable image %s", path)
            self._bad[path] = signature
            return None
        self._bad.pop(path, None)
        return _from_bgr(bgr)

    def _open(self) -> None:
        if self.path.is_file():
            self._files = [self.path]
        elif self.path.is_dir():
            self._files = sorted(p for p in self.path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
        else:
            raise CameraError(f"image folder {self.path} not found")
        if not self._files:
            raise CameraError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {self.path}")
        self._pos, self._current, self._repeats = 0, None, 0

    def _read(self) -> Frame | None:
        if self._current is not None and self._repeats > 0:
            self._repeats -= 1
            return self._frame(*self._current)
        for _ in range(len(self._files)):
            if self._pos >= len(self._files):
                if not self.loop:
                    return None
                self._pos = 0
            path = self._files[self._pos]
            self._pos += 1
            if not self.path.exists():
                raise CameraError(f"image folder {self.path} disappeared")
            image = self._load(path)
            if image is None:
                continue
            self._current = image
            self._repeats = max(0, round(self.seconds * self.fps) - 1) if self.pace else 0
            return self._frame(*self._current)
        raise CameraError(f"none of the images in {self.path} can be read")


def _camera_index(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def parse_source(text: str, loop: bool = False, pace: bool = True) -> Source:
    """`--source` → a Source (not yet opened). One-line SourceError for anything unknown.

    auto | picamera2 | demo | 0 (camera index) | /dev/videoN | video file | image folder or file.
    `loop` repeats finite sources; `pace` plays files at their own frame rate.
    """
    text = (text or "").strip()
    if not text:
        raise SourceError("empty --source; use auto, picamera2, demo, a camera index, /dev/videoN, a video or a folder")
    if text == "auto":
        return auto_source(pace=pace)
    if text in ("picamera2", "picam", "picamera"):
        from edge.camera.picam import Picamera2Source

        return Picamera2Source()
    if text == "demo":
        return VideoFile(DEMO_VIDEO, loop=True, pace=pace)
    index = _camera_index(text)
    if index is not None:
        return OpenCVDevice(index)
    if text.startswith("/dev/video"):
        return OpenCVDevice(text)
    path = Path(text).expanduser()
    if path.is_dir():
        return ImageFolder(path, loop=loop, pace=pace)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in VIDEO_EXTENSIONS:
            return VideoFile(path, loop=loop, pace=pace)
        if suffix in IMAGE_EXTENSIONS:
            return ImageFolder(path, loop=loop, pace=pace)
        raise SourceError(
            f"--source {text}: unknown file type {suffix or '(none)'}; expected a video "
            f"({', '.join(sorted(VIDEO_EXTENSIONS))}) or an image"
        )
    if any(sep in text for sep in "/\\.") or path.suffix:
        raise SourceError(f"--source {text}: no such file or folder")
    raise SourceError(
        f"unknown --source {text!r}; use auto, picamera2, demo, a camera index (0), /dev/videoN, a video or a folder"
    )


def auto_source(pace: bool = True) -> Source:
    """picamera2 if importable and a camera is attached, else /dev/video0 if it delivers a frame,
    else the bundled demo video (looped)."""
    try:
        from edge.camera.picam import Picamera2Source, cameras_attached

        if cameras_attached():
            return Picamera2Source()
    except ImportError:
        pass
    device = OpenCVDevice("/dev/video0")
    try:
        with device:
            device.read()
        return OpenCVDevice("/dev/video0")
    except CameraError as err:
        log.info("no usable /dev/video0 (%s); using the bundled demo video", err)
    if not DEMO_VIDEO.is_file():
        raise SourceError(f"no camera found and the bundled demo {DEMO_VIDEO} is missing")
    return VideoFile(DEMO_VIDEO, loop=True, pace=pace)
