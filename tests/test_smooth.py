"""Smoothing and decide(): the behaviour the exhibit relies on."""

from __future__ import annotations

import numpy as np
import pytest

from edge.labels import EMOTIONS, index_of
from edge.smooth import EmaSmoother, WindowSmoother, decide, flicker_and_delay, smooth_sequence
from edge.types import Face, FrameResult


def one_hot_ish(emotion: str, p: float = 0.7) -> np.ndarray:
    v = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1), np.float32)
    v[index_of(emotion)] = p
    return v


def results(probs, fps: float = 15.0, t0: float = 100.0) -> list[FrameResult]:
    out = []
    for i, p in enumerate(probs):
        faces = () if p is None else (Face((10, 10, 50, 50), np.asarray(p, np.float32)),)
        out.append(FrameResult(t0 + i / fps, faces, None))
    return out


def noisy_sequence(seed: int = 0, n: int = 90, fps: float = 15.0):
    """3 s happy then 3 s sad, each frame's probabilities perturbed by noise: a flickery classifier."""
    rng = np.random.default_rng(seed)
    truth = [index_of("happy")] * (n // 2) + [index_of("sad")] * (n - n // 2)
    probs = []
    for k in truth:
        p = np.full(len(EMOTIONS), 0.05) + rng.uniform(0, 0.35, len(EMOTIONS))
        p[k] += 0.3
        probs.append(p / p.sum())
    return probs, [i / fps for i in range(n)], truth


def test_ema_cuts_flicker_for_a_small_delay():
    probs, t, truth = noisy_sequence()
    raw_flicker, raw_delay = flicker_and_delay([int(np.argmax(p)) for p in probs], t, truth)
    smoothed = smooth_sequence(EmaSmoother(tau_s=0.25), probs, t)
    ema_flicker, ema_delay = flicker_and_delay([int(np.argmax(p)) for p in smoothed], t, truth)
    assert raw_flicker > 0.5  # the input really flickers
    assert ema_flicker < raw_flicker / 2
    assert ema_delay < 0.8


def test_ema_is_frame_rate_independent():
    step = [one_hot_ish("happy")] * 10 + [one_hot_ish("angry")] * 60
    at15 = smooth_sequence(EmaSmoother(0.3), step, [i / 15 for i in range(70)])
    at30 = smooth_sequence(EmaSmoother(0.3), step[:10] + step[10:] * 2, [i / 30 for i in range(130)])
    # 1 s after the change both have moved the same way
    assert at15[10 + 15][index_of("angry")] == pytest.approx(at30[10 + 30][index_of("angry")], abs=0.03)


def test_ema_restarts_after_the_face_is_gone():
    ema = EmaSmoother(tau_s=1.0, reset_after_s=0.5)
    ema.update(one_hot_ish("happy"), 0.0)
    assert ema.update(None, 0.2) is not None  # a short dropout keeps the state
    assert ema.update(None, 0.8) is None  # gone too long
    fresh = ema.update(one_hot_ish("sad"), 0.9)
    assert np.allclose(fresh, one_hot_ish("sad"))  # the new visitor does not inherit "happy"


def test_window_mean_forgets_old_frames():
    w = WindowSmoother(window_s=0.5)
    w.update(one_hot_ish("happy"), 0.0)
    assert np.argmax(w.update(one_hot_ish("sad"), 1.0)) == index_of("sad")


def test_decide_clear_expression():
    d = decide(results([one_hot_ish("surprise", 0.8)] * 20))
    assert d.sure and d.emotion == "surprise"
    assert d.confidence == pytest.approx(0.8, abs=1e-5)
    assert set(d.scores) == set(EMOTIONS) and d.frames == 20


def test_decide_no_face_is_not_sure():
    d = decide(results([None] * 20))
    assert not d.sure and d.reason == "no face"


def test_decide_face_lost_at_the_end_is_not_sure():
    d = decide(results([one_hot_ish("happy")] * 14 + [None] * 8))
    assert not d.sure and d.reason == "face lost"


def test_decide_refuses_a_coin_flip():
    tie = (one_hot_ish("happy", 0.4) + one_hot_ish("sad", 0.4)) / 2
    d = decide(results([tie] * 20))
    assert not d.sure and d.reason == "low confidence"
    flat = np.full(len(EMOTIONS), 1 / len(EMOTIONS))
    assert decide(results([flat] * 20)).reason == "low confidence"


def test_decide_needs_enough_frames_in_the_window():
    r = results([one_hot_ish("happy", 0.9)] * 20, fps=15.0)
    assert decide(r[:2]).reason == "too few frames"
    assert decide(r, now=r[-1].timestamp + 10).reason == "too few frames"  # all older than the window
