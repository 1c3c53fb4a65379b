"""Knowledge distillation: the averaged answers of several trained models become the training target.

An ensemble of models is more accurate than any one of them, but the exhibit can afford one small
network per face. So the ensemble's probabilities (each teacher averaged with its mirror view, as
the exhibit does) are computed once for every training image and mixed into the target:
`target = (1 - w) * one_hot + w * teachers`, with `w` the preset's `distill_weight`. The mixed target
carries the teachers' "this angry face looks a bit sad" knowledge that a one-hot label lacks.

The targets are computed on the unaugmented images and cached in the run folder
(`teacher_targets.npz`, remade on resume when missing); the student sees augmented versions of
the same images, a common offline form of distillation that costs no teacher passes per step.
train/views.py is the consistent form: the teachers label augmented views, and the student sees exactly those.
A pass saves its answers piece by piece (`<cache>.pieces/from-<first image>.npz`, ~0.2 MB each), so a run
stopped during it resumes where it was; the pieces stay after the pass as the committable record of it (a
48-view cache passes the 5 MB commit limit), so a fresh checkout rebuilds the cache from them, no passes; a
longer run resumed there rebuilds a shorter sibling's cache from its pieces too, to reuse its first views.

A teacher must share the student's holdout (same `--holdout` and `--holdout-seed`): one that trained
on the student's holdout images would leak them into early stopping and model choice. A refit on all of
train (`--holdout 0`) has no holdout, so it takes any teacher.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np

from train.data import recorded_holdout

log = logging.getLogger(__name__)

TARGETS_FILE = "teacher_targets.npz"
# What reading a damaged or foreign cache file raises: such a cache is passed over, never a traceback.
CACHE_ERRORS = (OSError, ValueError, KeyError, zipfile.BadZipFile)


def resolve_teacher(path: Path, role: str = "teacher") -> Path:
    """A run folder (its best.keras) or a .keras file; `role` names it in the error (teacher, --init-from)."""
    path = Path(path)
    if path.is_dir():
        path = path / "best.keras"
    if path.suffix != ".keras" or not path.is_file():
        raise FileNotFoundError(f"{role} not found: {path} (give a run folder with best.keras or a .keras file)")
    return path


def check_teacher_holdout(teacher: Path, holdout: float, holdout_seed: int, role: str = "teacher") -> None:
    """Refuse a teacher (or another run's weights, `role`) whose run used a different holdout (its training
    images include ours). A refit (holdout 0) takes any: it has no holdout to leak into, and its checkpoint
    and offsets are fixed before it starts (docs/experiments.md)."""
    if holdout <= 0:
        return
    config_file = teacher.parent / "config.json"
    if not config_file.exists():
        raise ValueError(f"{role} {teacher}: no config.json beside it, so its holdout is unknown; "
                         f"a {role} must be a run folder trained with the same --holdout-seed")
    config = json.loads(config_file.read_text())
    theirs = recorded_holdout(config)
    if config.get("limit") or theirs != (holdout, holdout_seed):
        raise ValueError(f"{role} {teacher} was trained with holdout {theirs[0]} seed {theirs[1]}"
                         f"{' on a --limit subset' if config.get('limit') else ''}; this run holds out "
                         f"{holdout} with seed {holdout_seed}, so the {role} has seen this run's holdout images")


def ensemble_probabilities(teachers: list[Path], images: np.ndarray) -> np.ndarray:
    """Mean over teachers of (p(x) + p(mirror x)) / 2 for (N, 48, 48) uint8 images → (N, classes)."""
    from train.evaluate import predict

    return predict(_load_ensemble(teachers), images, flip=True, progress=ProgressLog("teacher targets"))


def _load_ensemble(teachers: list[Path]):
    import keras

    from train.evaluate import Ensemble

    return Ensemble([keras.models.load_model(path, compile=False) for path in teachers])


class ProgressLog:
    """A `predict` progress callback that logs each tenth of the way with the time left at the pace so far: a
    teacher pass over 620,000 views runs 40–110 minutes here with nothing else to show it is alive. `first` is
    where a resumed pass starts, so the pace counts only this process's images."""

    def __init__(self, what: str, steps: int = 10, first: int = 0):
        self.what, self.steps, self.first = what, steps, first
        self.started = time.monotonic()
        self.logged = 0

    def __call__(self, done: int, total: int) -> None:
        step = self.steps * done // max(total, 1)
        if step <= self.logged or done <= self.first:
            return
        self.logged = step
        elapsed = time.monotonic() - self.started
        left = elapsed * (total - done) / (done - self.first)
        log.info("%s: %d of %d images (%d%%), %.0f min so far, ~%.0f min left", self.what, done, total,
                 100 * done // total, elapsed / 60, left / 60)


# Pieces of two whole `predict` chunks (256 × 64 images), so a pass in pieces gives one call's answers.
PIECE_IMAGES = 2 * 256 * 64


def _answers_resumably(teachers: list[Path], images: np.ndarray, pieces_dir: Path, key: str) -> np.ndarray:
    """The teachers' quantized answers for (N, 48, 48) `images`, each piece (~5 % of a view stack) saved as its
    own file in `pieces_dir` as soon as it is answered: a run stopped during an hour-long pass resumes where it
    was, in this session or the next (commit the folder), instead of starting the pass again. `key` names what
    the answers are for; pieces for another key are not used."""
    from train.evaluate import predict

    pieces = _read_pieces(pieces_dir, key)
    done = sum(map(len, pieces))
    if 0 < done < len(images):
        log.info("resuming the teacher pass at image %d of %d from %s", done, len(images), pieces_dir)
    elif done:
        log.info("the teachers' answers for all %d images rebuilt from %s, no passes", len(images), pieces_dir)
    if done < len(images):
        ensemble = _load_ensemble(teachers)
        progress = ProgressLog("teacher targets", first=done)
        pieces_dir.mkdir(exist_ok=True)
    for start in range(done, len(images), PIECE_IMAGES):
        answers = predict(ensemble, images[start:start + PIECE_IMAGES], flip=True,
                          progress=lambda count, _, start=start: progress(start + count, len(images)))
        pieces.append(_quantized(answers))
        _save_whole(_piece_path(pieces_dir, start), probs=pieces[-1], key=np.array(key))
    stored = np.concatenate(pieces) if pieces else np.zeros((0, 0), np.uint8)
    if len(stored) != len(images):
        raise ValueError(f"the teacher pieces in {pieces_dir} hold {len(stored)} answers for {len(images)} images")
    return stored


def _read_pieces(pieces_dir: Path, key: str, wanted: int | None = None) -> list[np.ndarray]:
    """The saved pieces for `key` in order from the first image, up to the first missing one (or until they
    hold `wanted` answers)."""
    pieces: list[np.ndarray] = []
    done = 0
    while (wanted is None or done < wanted) and (piece := _read_piece(pieces_dir, done, key)) is not None:
        pieces.append(piece)
        done += len(piece)
    return pieces


def _piece_path(pieces_dir: Path, first: int) -> Path:
    return pieces_dir / f"from-{first:08d}.npz"


def _read_piece(pieces_dir: Path, first: int, key: str) -> np.ndarray | None:
    """The answers saved from image `first` on, or None when that piece is missing, unreadable (a warning) or
    for another key: the pass goes on from there."""
    path = _piece_path(pieces_dir, first)
    if not path.exists():
        return None
    try:
        with np.load(path) as saved:
            if str(saved["key"]) != key:
                # Not "starting again": a sibling-cache rebuild reads pieces too, and starts nothing.
                log.info("the teacher piece %s is for other teachers or images: not used", path)
                return None
            probs = saved["probs"]
    except CACHE_ERRORS as err:
        log.warning("the teacher piece %s is unreadable (%s): answering it again", path, err)
        return None
    return probs if len(probs) else None


def fingerprint(teachers: list[Path], images: np.ndarray) -> str:
    """Identifies the targets: the teacher files' bytes and the training images."""
    return _with_teachers(hashlib.sha256(images.tobytes()), [path.read_bytes() for path in teachers])


def _with_teachers(image_digest, teacher_bytes: list[bytes]) -> str:
    """The fingerprint from a sha256 of the images' bytes, which is left as it was."""
    digest = image_digest.copy()
    for data in teacher_bytes:
        digest.update(data)
    return digest.hexdigest()[:16]


def teacher_targets(run_dir: Path, teachers: list[Path], images: np.ndarray, labels: np.ndarray,
                    expected: str, cache_name: str = TARGETS_FILE) -> np.ndarray:
    """The teachers' probabilities for `images` ((..., 48, 48) uint8, `labels` shaped like the leading axes):
    from the run's cache when it holds the `expected` fingerprint, else from a copy of a sibling run's cache
    that holds it, else computed and cached (a damaged cache is recomputed too). Returns (..., classes).
    For a stack of views ((views, N, 48, 48)), a sibling's answers for the same first views are reused and
    only the remaining views are computed."""
    cache = run_dir / cache_name
    if not cache.exists():
        _copy_sibling_cache(run_dir, cache_name, expected)
    if cache.exists():
        try:
            found, probs = read_cache(cache)
            if found == expected:
                return probs
            log.info("teacher targets in %s are for other teachers or images: recomputing", cache)
        except CACHE_ERRORS as err:
            log.warning("teacher targets in %s are unreadable (%s): recomputing", cache, err)
    leading = _sibling_leading_views(run_dir, cache_name, teachers, images) if images.ndim == 4 else None
    reused, source, source_fingerprint = leading or (None, None, None)
    rest = images if reused is None else images[len(reused):]
    flat = rest.reshape(-1, *rest.shape[-2:])
    log.info("computing teacher targets: %d teachers × %d images, each with its mirror", len(teachers), len(flat))
    key = f"{expected}:{0 if reused is None else len(reused)}"
    stored = _answers_resumably(teachers, flat, cache.with_name(cache.stem + ".pieces"), key)
    stored = stored.reshape(*rest.shape[:-2], stored.shape[-1])
    fresh = dequantized(stored)  # the same values as a later cache read
    probs = fresh if reused is None else np.concatenate([reused, fresh])
    agree = float((probs.argmax(-1) == labels).mean())
    log.info("teacher ensemble agrees with the labels on %.2f%% of its training images", 100 * agree)
    # Only the computed answers are stored; reused ones are named by file, since 48 views in one file would pass
    # the 5 MB commit limit.
    pointer = {} if reused is None else {"leading_file": np.array(os.path.relpath(source, run_dir)),
                                         "leading_fingerprint": np.array(source_fingerprint)}
    _save_whole(cache, probs=stored, fingerprint=np.array(expected), **pointer)
    return probs


def _save_whole(path: Path, **arrays: np.ndarray) -> None:
    """np.savez_compressed through a temporary file: a run killed while writing leaves the old file or none,
    never half a file."""
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def _quantized(probs: np.ndarray) -> np.ndarray:
    """Probabilities in steps of 1/255 (uint8): half float16's size, so a cache of 24 views (~3.4 MB) stays
    small enough to commit while a run spans sessions; the step is far below the teachers' disagreement."""
    return np.rint(np.clip(probs, 0.0, 1.0) * 255).astype(np.uint8)


def dequantized(stored: np.ndarray) -> np.ndarray:
    """float32 probabilities from a cache: uint8 steps of 1/255, or the float16 of caches written before."""
    if stored.dtype == np.uint8:
        return stored.astype(np.float32) / 255
    return stored.astype(np.float32)


def _sibling_leading_views(run_dir: Path, cache_name: str, teachers: list[Path],
                           views: np.ndarray) -> tuple[np.ndarray, Path, str] | None:
    """A sibling run's answers for the first k of `views` (k below their count, the largest k found), with
    the cache file they came from and its fingerprint; or None. Views come from stateless seeds
    (train/views.py), so a run with more views of the same seed starts with the views a shorter run labelled:
    24 views after a 12-view run cost 12 views of teacher passes, not 24."""
    leading = _leading_fingerprints(teachers, views)
    _rebuild_sibling_caches(run_dir, cache_name, leading, views.shape[1])
    found = [(leading[theirs], other, theirs) for other in sorted(run_dir.parent.glob(f"*/{cache_name}"))
             if other.parent != run_dir and (theirs := _cached_fingerprint(other)) in leading]
    if not found:
        return None
    count, source, source_fingerprint = max(found)
    try:
        _, probs = read_cache(source)
    except CACHE_ERRORS:
        return None
    if probs.shape[:2] != (count, views.shape[1]):
        return None
    log.info("reusing the teachers' answers for the first %d views from %s", count, source)
    return probs, source, source_fingerprint


def _rebuild_sibling_caches(run_dir: Path, cache_name: str, leading: dict[str, int], images_per_view: int) -> None:
    """Write a sibling's cache from its committed pieces when the cache itself is missing (a fresh checkout
    holds only the pieces) and they answer the first k of this run's views: the cache it would rebuild on its
    own resume, so a longer run resumed in a new checkout reuses it instead of redoing a 12-view pass (~40
    min). Only a pass that reused nothing (key "<fingerprint>:0") stands alone; a sibling's complete pieces
    are those of k × images_per_view answers."""
    stem = Path(cache_name).stem
    for pieces_dir in sorted(run_dir.parent.glob(f"*/{stem}.pieces")):
        cache = pieces_dir.parent / cache_name
        if pieces_dir.parent == run_dir or cache.exists():
            continue
        try:
            with np.load(_piece_path(pieces_dir, 0)) as first:
                key = str(first["key"])
        except CACHE_ERRORS:
            continue
        theirs, _, reused = key.rpartition(":")
        if reused != "0" or theirs not in leading:
            continue
        pieces = _read_pieces(pieces_dir, key, wanted=leading[theirs] * images_per_view)
        if sum(map(len, pieces)) != leading[theirs] * images_per_view:
            continue
        log.info("rebuilt %s from its pieces: the teachers' answers for %d views", cache, leading[theirs])
        _save_whole(cache, probs=np.concatenate(pieces).reshape(leading[theirs], images_per_view, -1),
                    fingerprint=np.array(theirs))


def read_cache(path: Path) -> tuple[str, np.ndarray]:
    """(fingerprint, float32 probabilities) of a cache file. A cache that extends a sibling's views holds only
    its own views and names the file with the first ones (relative to its run folder), which are read and put
    in front; that file gone or changed raises ValueError or OSError, so the caller recomputes."""
    with np.load(path) as saved:
        found, probs = str(saved["fingerprint"]), dequantized(saved["probs"])
        if "leading_file" not in saved.files:
            return found, probs
        source = Path(os.path.normpath(path.parent / str(saved["leading_file"])))
        wanted = str(saved["leading_fingerprint"])
    theirs, first = read_cache(source)
    if theirs != wanted or first.shape[1:] != probs.shape[1:]:
        raise ValueError(f"{source} no longer holds the answers for this cache's first views")
    return found, np.concatenate([first, probs])


def _leading_fingerprints(teachers: list[Path], views: np.ndarray) -> dict[str, int]:
    """{fingerprint(teachers, views[:k]): k} for every k below the count of views, hashing the views once."""
    teacher_bytes = [path.read_bytes() for path in teachers]
    digest, leading = hashlib.sha256(), {}
    for count in range(1, len(views)):
        digest.update(views[count - 1].tobytes())  # views[:k].tobytes() is the first k views' bytes in order
        leading[_with_teachers(digest, teacher_bytes)] = count
    return leading


def _cached_fingerprint(path: Path) -> str | None:
    """The fingerprint a cache file holds, or None when it is unreadable (only that small member is read)."""
    try:
        with np.load(path) as saved:
            return str(saved["fingerprint"])
    except CACHE_ERRORS:
        return None


def _copy_sibling_cache(run_dir: Path, cache_name: str, expected: str) -> None:
    """Copy another run's cache of the same teachers on the same images into this run, if one exists: the
    teachers' passes take up to half an hour (train/views.py), and a run with the same seed and augmentation
    labels the same views. The copy keeps this run self-contained, so it resumes from its own folder."""
    for other in sorted(run_dir.parent.glob(f"*/{cache_name}")):
        if other.parent != run_dir and _cached_fingerprint(other) == expected:
            log.info("reusing the teachers' answers from %s (same teachers, same images)", other)
            cache = run_dir / cache_name
            tmp = cache.with_name(cache.stem + ".tmp.npz")
            shutil.copyfile(other, tmp)
            tmp.replace(cache)  # as when computing: the old cache or none, never half a file
            return


def mixed_targets(labels: np.ndarray, teacher_probs: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) · one-hot + weight · teacher probabilities, rows summing to 1. `teacher_probs` is
    (N, classes), or (views, N, classes) for several views of the same N labelled images."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"distill_weight must be in [0, 1], got {weight}")
    one_hot = np.eye(teacher_probs.shape[-1], dtype=np.float32)[labels]
    mixed = (1 - weight) * one_hot + weight * teacher_probs
    return mixed / mixed.sum(axis=-1, keepdims=True)
