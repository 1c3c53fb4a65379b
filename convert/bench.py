"""Single-face latency of a .tflite on one thread, model size and peak RSS (and the fer peer's)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edge.memory import peak_rss_mb


def _time(fn, runs: int, warmup: int = 50) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - start
    return out * 1000.0


def bench(model_path: Path, runs: int = 1000, threads: int = 1, peer: bool = False, flip: bool | None = None,
          zooms: tuple[float, ...] | None = None) -> dict:
    """Per-face latency over all the test-time views (None: as the model file recommends)."""
    from edge.classify import Classifier, ClassifierOptions

    if runs < 1 or threads < 1:
        raise ValueError(f"bench needs at least 1 run and 1 thread, got runs={runs}, threads={threads}")

    clf = Classifier(ClassifierOptions(model=model_path, threads=threads, flip_average=flip, zoom_views=zooms))
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (clf.input_size, clf.input_size), dtype=np.uint8)
    ms = _time(lambda: clf.predict(crop), runs)
    result = {
        "model": str(model_path),
        "runtime": f"{clf.runtime.name} {clf.runtime.version}",
        "threads": threads,
        "flip_average": clf.flip_average,
        "zoom_views": list(clf.views.zooms),
        "passes_per_face": clf.views.count,
        "runs": runs,
        "latency_ms_median": float(np.median(ms)),
        "latency_ms_p95": float(np.percentile(ms, 95)),
        "size_kb": model_path.stat().st_size / 1024,
        "peak_rss_mb": peak_rss_mb(),
    }
    if peer:
        from edge.peer import PeerClassifier, fer_data_dir

        other = PeerClassifier(threads=threads)
        peer_ms = _time(lambda: other.predict_one(crop), runs)
        result.update(
            peer_latency_ms_median=float(np.median(peer_ms)),
            peer_latency_ms_p95=float(np.percentile(peer_ms, 95)),
            peer_size_kb=(fer_data_dir() / "emotion_model_quantized.tflite").stat().st_size / 1024,
            speedup=float(np.median(peer_ms) / np.median(ms)),
            peak_rss_mb=peak_rss_mb(),
        )
    return result
