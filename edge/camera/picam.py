"""Raspberry Pi camera via picamera2: a main RGB stream for display and a low-resolution YUV
stream whose Y plane is the grayscale image for detection (no colour conversion on the Pi)."""

from __future__ import annotations

import numpy as np

from edge.camera.base import CameraError, Source
from edge.types import Frame


def cameras_attached() -> bool:
    """True when picamera2 imports and libcamera sees a camera (ImportError when not installed)."""
    from picamera2 import Picamera2

    return bool(Picamera2.global_camera_info())


class Picamera2Source(Source):
    name = "picamera2"

    def __init__(self, size: tuple[int, int] = (640, 480), lores: tuple[int, int] = (320, 240), fps: float = 30.0):
        super().__init__(pace=False, fps=fps)
        self.size, self.lores = size, lores
        self._cam = None

    def _open(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise CameraError("picamera2 is not installed (apt install python3-picamera2)") from None
        try:
            if not Picamera2.global_camera_info():
                raise CameraError("no Raspberry Pi camera detected (ribbon cable seated? camera enabled?)")
            cam = Picamera2()
            # "BGR888" is R,G,B byte order in numpy terms: what the display wants without a copy.
            config = cam.create_video_configuration(
                main={"size": self.size, "format": "BGR888"},
                lores={"size": self.lores, "format": "YUV420"},
                controls={"FrameRate": self.fps},
                buffer_count=3,
            )
            cam.configure(config)
            cam.start()
        except CameraError:
            raise
        except Exception as err:  # noqa: BLE001 - libcamera raises assorted types; report one line
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CameraError(f"picamera2 cannot start: {first}") from None
        self._cam = cam

    def _read(self) -> Frame:
        try:
            (main, yuv), _ = self._cam.capture_arrays(["main", "lores"])
        except Exception as err:  # noqa: BLE001 - any capture failure means the camera is gone
            raise CameraError(f"picamera2 capture failed: {err}") from None
        w, h = self.lores
        gray = np.ascontiguousarray(yuv[:h, :w])  # the Y plane of YUV420 is the grayscale image
        return self._frame(main[:, :, :3], gray)

    def _close(self) -> None:
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            except Exception:  # noqa: BLE001 - closing a vanished camera may fail; nothing to do
                pass
            self._cam = None
