"""Shared fixtures: the FER2013 validation faces (skipped with a reason when absent) and a tiny real model."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.labels import EMOTIONS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _root_logger_as_it_was():
    """The CLIs configure the root logger on the stream they see (pytest's capture, closed after the test): put it
    back, so a later test's logging neither writes to a closed stream nor skips its own basicConfig."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def drawn_texts(monkeypatch) -> list[str]:
    """Every text drawn through the scenes' helpers (Scene.text and the preview placeholder), in order."""
    from edge.ui.scenes import base

    drawn: list[str] = []
    real = base.draw_text

    def spy(surface, cache, text, *args, **kwargs):
        drawn.append(text)
        return real(surface, cache, text, *args, **kwargs)

    monkeypatch.setattr(base, "draw_text", spy)
    return drawn


def find_dataset() -> Path | None:
    """$EMOTIONS_DATA, else ../shared/datasets/face-expression beside the repo; None when absent."""
    for candidate in (os.environ.get("EMOTIONS_DATA"), REPO.parent / "shared" / "datasets" / "face-expression"):
        if candidate and (Path(candidate) / "validation").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def dataset_root() -> Path:
    root = find_dataset()
    if root is None:
        pytest.skip("FER2013 face-expression dataset not found (set EMOTIONS_DATA or place it at ../shared/datasets)")
    return root


def load_faces(root: Path, per_class: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """`per_class` validation faces of each emotion (sorted file order): (N,48,48) uint8, labels, paths."""
    faces, labels, paths = [], [], []
    for label, emotion in enumerate(EMOTIONS):
        for path in sorted((root / "validation" / emotion).glob("*.jpg"))[offset : offset + per_class]:
            img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if img is not None and img.shape == (48, 48):
                faces.append(img)
                labels.append(label)
                paths.append(path)
    return np.stack(faces), np.array(labels), paths


@pytest.fixture(scope="session")
def val_faces(dataset_root: Path) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    return load_faces(dataset_root, per_class=6)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, val_faces) -> Path:
    pytest.importorskip("tensorflow", reason="building the test model needs TensorFlow (workstation only)")
    from helpers_model import make_tiny_model  # tests/ is on sys.path (rootdir conftest, no package)

    return make_tiny_model(tmp_path_factory.mktemp("model") / "tiny.tflite", val_faces[0])


@pytest.fixture(scope="session")
def backgrounds() -> list[np.ndarray]:
    from convert.calibrate_crop import backgrounds as load

    return load()


def write_face_video(path: Path, faces: np.ndarray, backgrounds: list[np.ndarray], frames_per_face: int = 6,
                     blank: int = 0) -> Path:
    """A real video (MJPG .avi, written and later decoded by OpenCV) of `faces` composed on a photo,
    optionally followed by `blank` frames without a face."""
    from convert.calibrate_crop import compose

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    assert writer.isOpened(), "OpenCV cannot write MJPG here"
    for k, face in enumerate(faces):
        for i in range(frames_per_face):
            scene = compose(face, backgrounds[0], np.random.default_rng(k), side=200 + 4 * i, centre=(320, 240))
            writer.write(cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2BGR))
    for _ in range(blank):
        writer.write(cv2.cvtColor(cv2.resize(backgrounds[0], (640, 480)), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope="session")
def make_face_video():
    return write_face_video


@pytest.fixture(scope="session")
def face_video(tmp_path_factory, val_faces, backgrounds) -> Path:
    """Four real validation faces, 6 frames each, then 6 frames of background only."""
    faces = val_faces[0][[3 * 6, 4 * 6, 5 * 6, 6 * 6]]  # happy, neutral, sad, surprise
    # On a brick wall: on some views of skimage's coffee photo BlazeFace fires on the cup (score ~0.6).
    return write_face_video(tmp_path_factory.mktemp("video") / "faces.avi", faces, [backgrounds[4]], blank=6)


@pytest.fixture(scope="session")
def astronaut_gray() -> np.ndarray:
    import skimage.data

    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)
