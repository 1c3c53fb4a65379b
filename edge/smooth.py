"""Temporal smoothing of per-frame probabilities, and the "Recognize emotion" decision.

Smoothing is an exponential moving average with a time constant (not a per-frame factor), so it
behaves the same at 10 or 30 inference frames per second: alpha = 1 - exp(-dt / tau). tau = 0.5 s
was chosen by measurement on the demo video (per-frame labels of a 4-epoch snapshot of the res48
model): raw labels change 0.93×/s more often than the face does; tau 0.25 s halves that (0.47/s,
0.1 s median delay); tau 0.5 s removes it (0/s) for a 0.3 s median delay, as a 0.5 s window mean
does, without keeping a buffer; a 1 s window adds 0.4 s.
A face missing for longer than `reset_after_s` restarts the average, so a new visitor does not
inherit the previous one's expression.

`decide()` looks at the raw per-frame results of the last ~1.5 s and answers an emotion only when
the evidence is clear: a face in most frames up to the end, a top class above `min_confidence` and
ahead of the runner-up by `min_margin`. Anything else is "not sure" with a reason; never a coin flip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.labels import EMOTIONS
from edge.types import Decision, FrameResult


class EmaSmoother:
    def __init__(self, tau_s: float = 0.5, reset_after_s: float = 0.7):
        if tau_s < 0:
            raise ValueError("tau_s must be ≥ 0")
        self.tau_s, self.reset_after_s = tau_s, reset_after_s
        self._value: np.ndarray | None = None
        self._last_t: float | None = None  # time of the last frame with a face

    def reset(self) -> None:
        self._value, self._last_t = None, None

    def update(self, probs: np.ndarray | None, timestamp: float) -> np.ndarray | None:
        """Feed one frame's probabilities (None = no face). Returns the smoothed vector or None."""
        if probs is None:
            if self._last_t is not None and timestamp - self._last_t > self.reset_after_s:
                self.reset()
            return None if self._value is None else self._value.copy()
        probs = np.asarray(probs, dtype=np.float32)
        if self._value is None or self._last_t is None or timestamp - self._last_t > self.reset_after_s:
            self._value = probs.copy()
        else:
            dt = max(0.0, timestamp - self._last_t)
            alpha = 1.0 if self.tau_s == 0 else 1.0 - math.exp(-dt / self.tau_s)
            self._value = self._value + alpha * (probs - self._value)
        self._last_t = timestamp
        return self._value.copy()


class WindowSmoother:
    """Mean over the last `window_s` seconds (kept for comparison with the EMA; see the report)."""

    def __init__(self, window_s: float = 1.0):
        self.window_s = window_s
        self._items: list[tuple[float, np.ndarray]] = []

    def update(self, probs: np.ndarray | None, timestamp: float) -> np.ndarray | None:
        self._items = [(t, p) for t, p in self._items if timestamp - t <= self.window_s]
        if probs is not None:
            self._items.append((timestamp, np.asarray(probs, dtype=np.float32)))
        if not self._items:
            return None
        return np.mean([p for _, p in self._items], axis=0)


def smooth_sequence(smoother, probs: Sequence[np.ndarray | None], timestamps: Sequence[float]) -> list:
    return [smoother.update(p, t) for p, t in zip(probs, timestamps)]


def flicker_and_delay(
    labels: Sequence[int | None], timestamps: Sequence[float], truth: Sequence[int]
) -> tuple[float, float]:
    """(label changes per second beyond the true ones, median seconds until the label first agrees
    with the truth after each true change) for a labelled sequence."""
    labels, t, truth = list(labels), np.asarray(timestamps, float), list(truth)
    changes = sum(1 for a, b in zip(labels, labels[1:]) if a is not None and b is not None and a != b)
    true_changes = [i for i in range(1, len(truth)) if truth[i] != truth[i - 1]]
    duration = max(1e-9, t[-1] - t[0])
    delays = []
    for i in true_changes:
        j = next((k for k in range(i, len(labels)) if labels[k] == truth[i] or truth[k] != truth[i]), None)
        if j is not None and truth[j] == truth[i] and labels[j] == truth[i]:
            delays.append(t[j] - t[i])
    extra = max(0, changes - len(true_changes))
    return extra / duration, float(np.median(delays)) if delays else float("nan")


@dataclass(frozen=True)
class DecideOptions:
    min_frames: int = 3
    min_face_fraction: float = 0.6  # of the window's frames must show a face
    lost_after_s: float = 0.4  # no face in the newest frames for this long → "face lost"
    min_confidence: float = 0.45
    min_margin: float = 0.15  # top class ahead of the runner-up: no coin flips


def decide(
    results: Sequence[FrameResult],
    now: float | None = None,
    window_s: float = 1.5,
    labels: Sequence[str] = EMOTIONS,
    options: DecideOptions = DecideOptions(),
) -> Decision:
    """A Decision from the results (oldest first) of the last `window_s` seconds before `now`."""
    if now is None:
        now = results[-1].timestamp if results else 0.0
    window = [r for r in results if now - window_s <= r.timestamp <= now]
    empty = {name: 0.0 for name in labels}
    if len(window) < options.min_frames:
        return Decision(None, 0.0, empty, reason="too few frames", frames=len(window))
    with_face = [r for r in window if r.main_face is not None]
    if not with_face:
        return Decision(None, 0.0, empty, reason="no face", frames=len(window))
    if now - with_face[-1].timestamp > options.lost_after_s or len(with_face) < options.min_face_fraction * len(
        window
    ):
        return Decision(None, 0.0, empty, reason="face lost", frames=len(window))
    mean = np.mean([r.main_face.scores for r in with_face], axis=0)
    scores = {name: float(p) for name, p in zip(labels, mean)}
    order = np.argsort(-mean)
    top, second = float(mean[order[0]]), float(mean[order[1]]) if len(mean) > 1 else 0.0
    if top < options.min_confidence or top - second < options.min_margin:
        return Decision(None, top, scores, reason="low confidence", frames=len(window))
    return Decision(labels[int(order[0])], top, scores, frames=len(window))
