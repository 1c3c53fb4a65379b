"""The source interface shared by every camera / file source."""

from __future__ import annotations

import time

from edge.types import Frame


class SourceError(ValueError):
    """A `--source` string that names nothing usable; the message is one line."""


class CameraError(RuntimeError):
    """The source failed to open or to deliver a frame (unplugged, busy, file gone); one line."""


class Source:
    """Base class: subclasses implement `_open`, `_read` and `_close`.

    `pace` makes a file source behave like a camera (frames at the file's own rate instead of
    as fast as they decode), which is what `watch` and the exhibit want; `bench` turns it off.
    """

    name = "source"
    finite = False  # True when the source can run out (a video without loop, an image folder)

    def __init__(self, pace: bool = False, fps: float = 30.0):
        self.pace, self.fps = pace, fps
        self._index = 0
        self._next_due = 0.0
        self.is_open = False

    def open(self) -> None:
        if not self.is_open:
            self._open()
            self.is_open = True
            self._next_due = time.monotonic()

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._close()

    def read(self) -> Frame | None:
        if not self.is_open:
            self.open()
        if self.pace:
            delay = self._next_due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_due = max(self._next_due + 1.0 / self.fps, time.monotonic() - 1.0)
        frame = self._read()
        if frame is not None:
            self._index += 1
        return frame

    def _frame(self, image, gray) -> Frame:
        return Frame(image=image, gray=gray, timestamp=time.monotonic(), index=self._index)

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # --- for subclasses ---
    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> Frame | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass
