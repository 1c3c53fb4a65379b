"""The journal's privacy guard (edge/kiosk/logs.py): arrays and bytes never reach the log as data, and no line
is longer than MAX_MESSAGE, through the standard logging calls, as `setup_logging` configures them."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest

from edge.kiosk.logs import MAX_MESSAGE, setup_logging


@pytest.fixture
def journal(monkeypatch) -> io.StringIO:
    """setup_logging on a string stream (plain format, as outside systemd); the root logger restored after."""
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging(stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def face_crop() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)


def test_arrays_and_bytes_are_logged_as_their_shape_and_size(journal, capsys):
    log = logging.getLogger("edge.test")
    crop = face_crop()
    log.info("crop %s", crop)
    log.warning("frame %s and %s", crop.astype(np.float32), bytes(crop))
    log.info("buffers %s %s", bytearray(100), memoryview(bytes(7)))
    log.info(crop)  # the array as the message itself
    log.info("%(crop)s in a mapping", {"crop": crop})
    log.info("one %s", b"\x00\x01")  # a single non-tuple argument
    lines = journal.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "INFO edge.test: crop <array (48, 48) uint8>",
        "WARNING edge.test: frame <array (48, 48) float32> and <2304 bytes>",
        "INFO edge.test: buffers <100 bytes> <7 bytes>",
        "INFO edge.test: <array (48, 48) uint8>",
        "INFO edge.test: <array (48, 48) uint8> in a mapping",
        "INFO edge.test: one <2 bytes>",
    ]
    # a formatting failure would make logging print the record's arguments (the pixels) to stderr itself
    assert "Logging error" not in capsys.readouterr().err


def test_long_messages_are_truncated(journal):
    log = logging.getLogger("edge.test")
    log.info("%s", "x" * (MAX_MESSAGE + 500))
    log.info("y" * MAX_MESSAGE)  # exactly the limit: kept whole
    first, second = journal.getvalue().splitlines()
    message = first.split("edge.test: ", 1)[1]
    assert message == "x" * MAX_MESSAGE + " …[truncated]"
    assert second.split("edge.test: ", 1)[1] == "y" * MAX_MESSAGE


def test_ordinary_messages_are_untouched(journal):
    logging.getLogger("edge.test").warning("camera lost: %s (retrying, up to every %.0f s)", "no frames", 30.0)
    line = journal.getvalue().strip()
    assert line.endswith("WARNING edge.test: camera lost: no frames (retrying, up to every 30 s)"), line


def test_arrays_inside_containers_are_redacted_too(journal):
    log = logging.getLogger("edge.test")
    crop = face_crop()
    log.info("faces %s", [crop, (crop[:2], b"xy")])
    log.info("by name %s", {"crop": crop, "box": (1, 2, 3, 4)})
    lines = [line.split(" ", 1)[1] for line in journal.getvalue().splitlines()]
    assert lines == ["INFO edge.test: faces ['<array (48, 48) uint8>', ('<array (2, 48) uint8>', '<2 bytes>')]",
                     "INFO edge.test: by name {'crop': '<array (48, 48) uint8>', 'box': (1, 2, 3, 4)}"]


def test_numpy_scalars_are_numbers_not_arrays(journal, capsys):
    log = logging.getLogger("edge.test")
    log.info("score %.2f of %s", np.float32(0.875), np.int64(3))
    assert journal.getvalue().splitlines()[0].split(" ", 1)[1] == "INFO edge.test: score 0.88 of 3"
    assert "Logging error" not in capsys.readouterr().err
