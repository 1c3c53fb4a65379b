"""Classifier: face crops in, class probabilities out, everything read from the model file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.modelfile import ModelFileError, ModelSpec, read_spec
from edge.runtime import Runtime, allocate, select_runtime
from edge.views import TestTimeViews

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "models" / "emotion.tflite"


@dataclass(frozen=True)
class ClassifierOptions:
    model: Path = DEFAULT_MODEL
    threads: int = 1
    # Test-time views (edge/views.py): average with the mirrored crop (~+0.5 pt, twice the time) and with
    # crops zoomed by these factors. None = what the model file recommends.
    flip_average: bool | None = None
    zoom_views: tuple[float, ...] | None = None
    runtime: str | None = None  # None = first that imports


class Classifier:
    """Wraps one TFLite interpreter. `predict` takes (N, S, S) or (S, S) uint8 grayscale crops of
    the model's input size and returns (N, classes) float probabilities (softmax scores)."""

    def __init__(self, options: ClassifierOptions | None = None, **overrides):
        options = options or ClassifierOptions(**overrides)
        self.options = options
        self.spec: ModelSpec = read_spec(options.model)
        self.runtime: Runtime = select_runtime(options.runtime)
        try:
            self._interpreter = self.runtime.interpreter_class(
                model_path=str(options.model), num_threads=max(1, options.threads)
            )
            allocate(self._interpreter)
        except (ValueError, RuntimeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelFileError(f"{options.model}: {self.runtime.name} cannot load it: {first}") from None
        try:
            recommended = TestTimeViews.from_extra(self.spec.extra)
        except ValueError as err:
            raise ModelFileError(f"{options.model}: metadata: {err}") from None
        self.views = TestTimeViews(  # a bad option raises ValueError here, naming the option's values
            recommended.mirror if options.flip_average is None else options.flip_average,
            recommended.zooms if options.zoom_views is None else options.zoom_views,
        )
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._check_tensors()
        # Interpreters by batch size: all of one face's views go through a single invoke (fewer calls into the
        # runtime; 1.94 against 2.23 ms a face for the shipped file's four views, README). None marks a
        # size this file's graph cannot take (a reshape fixed to batch 1, say): those views run one by one.
        self._batched: dict[int, tuple | None] = {}

    def _check_tensors(self) -> None:
        s, c = self.spec.input_size, self.spec.channels
        shape = tuple(self._input["shape"])
        if shape[1:] != (s, s, c):
            raise ModelFileError(
                f"{self.options.model}: input tensor {shape} disagrees with its metadata ({s}×{s}×{c})"
            )
        out = tuple(self._output["shape"])
        if out[-1] != len(self.spec.labels):
            raise ModelFileError(
                f"{self.options.model}: output has {out[-1]} classes, metadata lists {len(self.spec.labels)}"
            )

    @property
    def flip_average(self) -> bool:
        return self.views.mirror

    @property
    def labels(self) -> tuple[str, ...]:
        return self.spec.labels

    @property
    def input_size(self) -> int:
        return self.spec.input_size

    def _quantize(self, crops: np.ndarray) -> np.ndarray:
        dtype = self._input["dtype"]
        scale, zero = self._input["quantization"]
        if crops.dtype == np.uint8 and dtype == np.int8 and (scale, zero) == (1.0, -128):
            # Our int8 files take raw pixels − 128 (convert/quantize.py): flipping the top bit is exactly that.
            return (crops ^ np.uint8(0x80)).view(np.int8)[..., None]
        x = crops.astype(np.float32)[..., None]
        if dtype == np.float32:
            return x
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        if self._output["dtype"] == np.float32:
            return y.astype(np.float32)
        scale, zero = self._output["quantization"]
        return (y.astype(np.float32) - zero) * scale

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """One invoke per item of `batch` (quantized inputs): the shape the edge model is converted for."""
        out = np.empty((len(batch), len(self.labels)), dtype=np.float32)
        index_in, index_out = self._input["index"], self._output["index"]
        for i, item in enumerate(batch):
            self._interpreter.set_tensor(index_in, item[None])
            self._interpreter.invoke()
            out[i] = self._dequantize(self._interpreter.get_tensor(index_out)[0])
        return out

    def _interpreter_for(self, batch: int) -> tuple | None:
        """(interpreter, input index, output index) taking `batch` crops at once; None if the graph refuses."""
        if batch not in self._batched:
            interpreter = self.runtime.interpreter_class(
                model_path=str(self.options.model), num_threads=max(1, self.options.threads)
            )
            try:
                index_in = interpreter.get_input_details()[0]["index"]
                interpreter.resize_tensor_input(index_in, [batch, *self._input["shape"][1:]])
                allocate(interpreter)
                output = interpreter.get_output_details()[0]
                fits = tuple(output["shape"]) == (batch, len(self.labels))
            except (ValueError, RuntimeError):
                fits = False
            self._batched[batch] = (interpreter, index_in, output["index"]) if fits else None
        return self._batched[batch]

    def _run_together(self, batch: np.ndarray) -> np.ndarray:
        """`batch` (quantized inputs) in one invoke where the file allows it, else one by one."""
        batched = self._interpreter_for(len(batch)) if len(batch) > 1 else None
        if batched is None:
            return self._run(batch)
        interpreter, index_in, index_out = batched
        interpreter.set_tensor(index_in, batch)
        interpreter.invoke()
        return self._dequantize(interpreter.get_tensor(index_out))

    def _crops(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if crops.ndim == 2:
            crops = crops[None]
        s = self.input_size
        if crops.shape[1:] != (s, s):
            raise ValueError(f"crops must be {s}×{s} grayscale, got {crops.shape[1:]}")
        return crops

    def predict(self, crops: np.ndarray, views: TestTimeViews | None = None) -> np.ndarray:
        """The mean of the answers for every test-time view; `views` None = this classifier's own (from its
        options or the model file), TestTimeViews() = one plain pass."""
        crops = self._crops(crops)
        views = self.views if views is None else views
        every_view = np.stack([views.view(crops, i) for i in range(views.count)], axis=1)  # (N, views, S, S)
        out = np.empty((len(crops), len(self.labels)), dtype=np.float32)
        for n, face_views in enumerate(every_view):  # one face's views at a time: a kiosk sees one face
            out[n] = self._run_together(self._quantize(face_views)).sum(axis=0) / views.count
        return out

    def predict_view(self, crops: np.ndarray, index: int) -> np.ndarray:
        """One pass, on view `index` of this classifier's views (a live stream cycles through them)."""
        return self._run(self._quantize(self.views.view(self._crops(crops), index)))
