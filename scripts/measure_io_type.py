"""Measure int8 vs uint8 model input/output: accuracy and single-face latency (1 thread, ai-edge-litert).

Run: TF_CPP_MIN_LOG_LEVEL=3 python scripts/measure_io_type.py [runs/res48-s1/best.keras]
(needs the train extra and the dataset in $EMOTIONS_DATA or ../shared/datasets/face-expression)
"""

import os
import sys
import time

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from convert.quantize import stratified_sample, to_tflite
from train.data import load_split


def measure(model, calibration: np.ndarray, val, io_type: str) -> str:
    data = to_tflite(model, "int8", calibration, io_type=io_type)
    interpreter = Interpreter(model_content=data, num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero = inp["quantization"]
    info = np.iinfo(inp["dtype"])

    def run(image: np.ndarray) -> np.ndarray:
        q = np.clip(np.round(image.astype(np.float32) / scale + zero), info.min, info.max).astype(inp["dtype"])
        interpreter.set_tensor(inp["index"], q[None, :, :, None])
        interpreter.invoke()
        return interpreter.get_tensor(out["index"])[0]

    accuracy = np.mean([run(x).argmax() for x in val.images] == val.labels)
    times = []
    for x in val.images[:1000]:
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return (f"{io_type}: input scale {scale} zero {zero}; validation acc {accuracy:.4f}; "
            f"median {np.median(times) * 1000:.3f} ms; size {len(data) / 1024:.0f} KB")


def main() -> None:
    root = os.environ.get("EMOTIONS_DATA", "../shared/datasets/face-expression")
    train, val = load_split(root, "train"), load_split(root, "validation")
    model = keras.models.load_model(sys.argv[1] if len(sys.argv) > 1 else "runs/res48-s1/best.keras")
    calibration = train.images[stratified_sample(train.labels, 700)]
    for io_type in ("int8", "uint8"):
        print(measure(model, calibration, val, io_type))


if __name__ == "__main__":
    main()
