"""Where the real FER2013 folder is, and small real copies of it for tests (never committed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_ROOT = Path(os.environ.get("EMOTIONS_DATA") or REPO.parent / "shared" / "datasets" / "face-expression")
HAVE_DATA = (DATA_ROOT / "train" / "happy").is_dir()
requires_data = pytest.mark.skipif(
    not HAVE_DATA, reason=f"FER2013 not found at {DATA_ROOT} (set EMOTIONS_DATA to the dataset root)"
)
EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def small_copy(dest: Path, per_class: int, splits: tuple[str, ...] = ("train", "validation")) -> Path:
    """Copy the first `per_class` real images of every class and split into `dest`."""
    for split in splits:
        for emotion in EMOTIONS:
            target = dest / split / emotion
            target.mkdir(parents=True, exist_ok=True)
            for src in sorted((DATA_ROOT / split / emotion).iterdir())[:per_class]:
                shutil.copy2(src, target / src.name)
    return dest
