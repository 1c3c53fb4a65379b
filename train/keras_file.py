"""Reading a saved `.keras` model, with the mistakes people make (a run folder, a typo, a .tflite) told in one line
before TensorFlow is imported."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any


def check_keras_file(path: Path) -> Path:
    """PATH if it is a Keras archive, else ValueError/FileNotFoundError in one line saying what was given instead: a
    run folder (its best.keras is named), a missing path, or a file that is not a Keras archive."""
    path = Path(path)
    if path.is_dir():
        hint = f": give {path / 'best.keras'}" if (path / "best.keras").exists() else ""
        raise ValueError(f"{path} is a folder, not a .keras model file{hint}")
    if not path.is_file():
        raise FileNotFoundError(f"model not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras .keras model file (a .keras file is a zip archive)")
    return path


def load_keras_file(path: Path, *, compile: bool = True) -> Any:
    """The keras.Model saved at PATH (checked as above, before TensorFlow is imported; a damaged archive is one
    line too)."""
    check_keras_file(path)
    import keras

    try:
        return keras.models.load_model(path, compile=compile)
    except (OSError, ValueError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path} could not be read as a Keras model: {first}") from err
