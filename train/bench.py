"""`emotions-train bench`: training throughput (images/second) per preset on this machine."""

from __future__ import annotations

import time

import numpy as np


def bench(preset_names: list[str], steps: int = 20) -> list[dict]:
    from edge.labels import EMOTIONS
    from train.data import Split
    from train.fit import build_model, make_dataset
    from train.presets import PRESETS, get_preset

    names = preset_names or [n for n in PRESETS if n != "seed-9"]
    presets = [get_preset(name) for name in names]  # an unknown name fails before anything is printed
    if steps < 1:
        raise ValueError(f"--steps must be at least 1, got {steps}")
    rng = np.random.default_rng(0)
    results = []
    print(f"{'preset':16} {'params':>10} {'images/s':>9} {'epoch of 28,709':>16}", flush=True)
    for name, preset in zip(names, presets, strict=True):
        n = preset.batch_size * (steps + 3)
        split = Split(rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), rng.integers(0, len(EMOTIONS), n),
                      np.array(["x.jpg"] * n))
        ds = make_dataset(split, preset, training=True, seed=0)  # with the preset's augmentation
        model = build_model(preset, steps)
        model.fit(ds.take(3), epochs=1, shuffle=False, verbose=0)  # trace and warm up (tf.data shuffles)
        start = time.perf_counter()
        model.fit(ds.skip(3).take(steps), epochs=1, shuffle=False, verbose=0)
        rate = steps * preset.batch_size / (time.perf_counter() - start)
        results.append({"preset": name, "params": model.count_params(), "images_per_s": rate})
        print(f"{name:16} {model.count_params():>10,} {rate:>9.0f} {28709 / rate / 60:>13.1f} min", flush=True)
    return results
