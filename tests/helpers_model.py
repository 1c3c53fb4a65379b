"""A tiny but real int8 emotion model for tests (needs TensorFlow; callers skip without it).

Built with the project's own converter (convert.quantize + convert.metadata), so tests of the edge
exercise exactly the file format the shipped model has.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.modelfile import CropSpec, ModelSpec


def make_tiny_model(path: str | Path, faces: np.ndarray, labels: np.ndarray | None = None, epochs: int = 0,
                    crop: CropSpec | None = None, seed: int = 0) -> Path:
    """Write a tiny int8 model to `path`. `faces`: (N, 48, 48) uint8 real faces for calibration
    (and training when `labels` and `epochs` are given)."""
    import keras

    from convert.metadata import embed_spec
    from convert.quantize import to_tflite
    from train.models import tiny_cnn

    keras.utils.set_random_seed(seed)
    model = tiny_cnn(width=8)
    if labels is not None and epochs:
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(faces[..., None].astype(np.float32), labels, epochs=epochs, batch_size=64, verbose=0)
    tflite = to_tflite(model, "int8", faces[:64])
    path = Path(path)
    path.write_bytes(embed_spec(tflite, ModelSpec(name="tiny-test", version="test", crop=crop or CropSpec())))
    return path
