"""Pick a TFLite interpreter: ai-edge-litert, then tflite-runtime, then TensorFlow's tf.lite.

ai-edge-litert is preferred: on x86 it runs int8 models 10–60× faster than tflite-runtime 2.14.
tflite-runtime 2.14 is what Raspberry Pi OS Bookworm users can install (it needs numpy < 2).
tf.lite is only a workstation fallback; importing it is deferred so the edge never loads
TensorFlow unless nothing else exists. Set EMOTIONS_TFLITE_RUNTIME to force one.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from dataclasses import dataclass

RUNTIMES = {
    "ai-edge-litert": "ai_edge_litert.interpreter",
    "tflite-runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}
RUNTIME_ENV = "EMOTIONS_TFLITE_RUNTIME"


class RuntimeUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Runtime:
    name: str
    version: str
    interpreter_class: type


def _load(name: str) -> Runtime:
    module = importlib.import_module(RUNTIMES[name])
    if name == "tensorflow":
        import tensorflow as tf

        return Runtime(name, tf.__version__, tf.lite.Interpreter)
    try:
        from importlib.metadata import version

        ver = version(name)
    except Exception:  # noqa: BLE001 - the version is only informative
        ver = "unknown"
    return Runtime(name, ver, module.Interpreter)


def select_runtime(preferred: str | None = None) -> Runtime:
    """The first TFLite runtime that imports (or the one named / set in $EMOTIONS_TFLITE_RUNTIME)."""
    wanted = preferred or os.environ.get(RUNTIME_ENV)
    names = [wanted] if wanted else list(RUNTIMES)
    errors = []
    for name in names:
        if name not in RUNTIMES:
            raise RuntimeUnavailable(f"unknown TFLite runtime {name!r}; choose one of {', '.join(RUNTIMES)}")
        try:
            return _load(name)
        except ImportError as err:
            errors.append(f"{name}: {err}")
    raise RuntimeUnavailable(
        "no TFLite runtime could be imported (" + "; ".join(errors) + "); install ai-edge-litert or tflite-runtime"
    )


# The runtimes print this on native stderr at the first allocate_tensors() of a process (measured with
# ai-edge-litert 2.x; TF_CPP_MIN_LOG_LEVEL does not silence it). Before a one-line error it reads as part of it.
_DELEGATE_NOTICE = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
_first_allocation_done = False


def allocate(interpreter) -> None:
    """`interpreter.allocate_tensors()`, dropping the delegate notice of the process's first allocation and
    passing anything else it prints through unchanged."""
    global _first_allocation_done
    if _first_allocation_done:
        interpreter.allocate_tensors()
        return
    _first_allocation_done = True
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2: nothing to filter
        interpreter.allocate_tensors()
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            interpreter.allocate_tensors()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True) if not line.startswith(_DELEGATE_NOTICE)]
            if kept:
                os.write(2, b"".join(kept))
