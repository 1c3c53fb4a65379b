"""Frame sources behind one small interface, and `--source` strings that name them.

Every source is a context manager; `read()` returns the next `Frame` (RGB image for display,
grayscale for detection, monotonic timestamp), None when a finite source has run out, and raises
`CameraError` (one line) when the device fails. Retrying a lost camera is the pipeline's job.
"""

from __future__ import annotations

from edge.camera.base import CameraError, Source, SourceError
from edge.camera.sources import (
    DEMO_VIDEO,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    ImageFolder,
    OpenCVDevice,
    VideoFile,
    auto_source,
    parse_source,
)

__all__ = [
    "CameraError",
    "DEMO_VIDEO",
    "IMAGE_EXTENSIONS",
    "ImageFolder",
    "OpenCVDevice",
    "Source",
    "SourceError",
    "VIDEO_EXTENSIONS",
    "VideoFile",
    "auto_source",
    "parse_source",
]
