"""Read the FER2013 folder layout into memory as uint8 arrays, with an .npz cache.

Layout: ROOT/{train,validation}/<emotion>/*.jpg, emotions as in `edge.labels.EMOTIONS`.
The cache is keyed by the folder contents (relative paths, sizes, mtimes), so a changed
dataset is re-read and an unchanged one loads in about a second.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.labels import EMOTIONS

log = logging.getLogger(__name__)

SPLITS = ("train", "validation")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
DATA_ENV = "EMOTIONS_DATA"
CACHE_VERSION = 1


class DatasetError(Exception):
    """A problem with the dataset folder; the message is one line naming the path."""


@dataclass
class Split:
    images: np.ndarray  # (N, H, W) uint8
    labels: np.ndarray  # (N,) int64, index into EMOTIONS
    names: np.ndarray  # (N,) file names, e.g. "PrivateTest_123.jpg"
    skipped: int = 0  # unreadable files left out

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask_or_index: np.ndarray) -> Split:
        return Split(self.images[mask_or_index], self.labels[mask_or_index], self.names[mask_or_index])

    def counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(EMOTIONS))

    @property
    def private_test(self) -> np.ndarray:
        """Mask of FER2013 PrivateTest images: the split the literature reports."""
        return np.char.startswith(self.names.astype(str), "PrivateTest")


def resolve_root(path: str | os.PathLike | None) -> Path:
    """The dataset root from a flag, else $EMOTIONS_DATA; a one-line error when neither works."""
    raw = path or os.environ.get(DATA_ENV)
    if not raw:
        raise DatasetError(f"no dataset given: pass --data ROOT or set {DATA_ENV}")
    root = Path(raw).expanduser()
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    return root


def list_split(root: Path, split: str) -> list[tuple[Path, int]]:
    """(file, label) pairs of one split, checking the layout strictly."""
    split_dir = root / split
    if not split_dir.is_dir():
        raise DatasetError(f"missing split folder: {split_dir}")
    found = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    unknown = [name for name in found if name not in EMOTIONS]
    if unknown:
        raise DatasetError(
            f"unknown class folder: {split_dir / unknown[0]} (expected {', '.join(EMOTIONS)})"
        )
    files: list[tuple[Path, int]] = []
    for label, emotion in enumerate(EMOTIONS):
        class_dir = split_dir / emotion
        if not class_dir.is_dir():
            raise DatasetError(f"missing class folder: {class_dir}")
        images = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise DatasetError(f"empty class folder: {class_dir}")
        files.extend((p, label) for p in images)
    return files


def _fingerprint(files: list[tuple[Path, int]], root: Path, size: int) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION}:{size}".encode())
    for path, label in files:
        st = path.stat()
        digest.update(f"{path.relative_to(root)}|{label}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _decode(path: Path, size: int) -> np.ndarray | None:
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None:
        return None
    if image.shape != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "emotions"


def load_split(
    root: str | os.PathLike | None,
    split: str,
    *,
    size: int = 48,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> Split:
    """Load one split as uint8 arrays; unreadable files are skipped and counted."""
    root = resolve_root(root)
    files = list_split(root, split)
    cache_dir = cache_dir or default_cache_dir()
    cache_file = cache_dir / f"{split}-{_fingerprint(files, root, size)}.npz"
    if use_cache and cache_file.exists():
        try:
            with np.load(cache_file, allow_pickle=False) as cached:
                result = Split(cached["images"], cached["labels"], cached["names"], int(cached["skipped"]))
            log.info("%s: %d images from cache %s", split, len(result), cache_file)
            return result
        except (OSError, ValueError, KeyError) as err:
            log.warning("cache %s unreadable (%s); re-reading the images", cache_file, err)
    images, labels, names, bad = [], [], [], []
    for path, label in files:
        image = _decode(path, size)
        if image is None:
            bad.append(path)
            continue
        images.append(image)
        labels.append(label)
        names.append(path.name)
    for path in bad[:5]:
        log.warning("skipped unreadable image: %s", path)
    if bad:
        log.warning("%s: skipped %d unreadable image(s) of %d", split, len(bad), len(files))
    if not images:
        raise DatasetError(f"no readable images in {root / split}")
    result = Split(
        np.stack(images).astype(np.uint8),
        np.asarray(labels, dtype=np.int64),
        np.asarray(names),
        len(bad),
    )
    if use_cache:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp.npz")
            np.savez(tmp, images=result.images, labels=result.labels, names=result.names, skipped=len(bad))
            tmp.replace(cache_file)
        except OSError as err:
            log.warning("could not write cache %s: %s", cache_file, err)
    log.info("%s: %d images read from %s (%d skipped)", split, len(result), root / split, len(bad))
    return result


def recorded_holdout(config: dict) -> tuple[float, int]:
    """(fraction, seed) of the holdout a run's config.json records; older runs used one seed for both."""
    return config.get("holdout"), config.get("holdout_seed", config.get("seed"))


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a stratified holdout taken from train, used for early stopping and choices."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    if fraction <= 0:
        return mask
    for label in np.unique(labels):
        index = np.flatnonzero(labels == label)
        take = max(1, round(len(index) * fraction))
        mask[rng.choice(index, size=take, replace=False)] = True
    return mask


def pixel_hashes(images: np.ndarray) -> np.ndarray:
    return np.array([hashlib.blake2b(img.tobytes(), digest_size=12).hexdigest() for img in images])


def leaked_mask(train_images: np.ndarray, validation_images: np.ndarray) -> np.ndarray:
    """Validation images with a pixel-identical copy in train (FER2013's train/validation leak)."""
    seen = set(pixel_hashes(train_images))
    return np.array([h in seen for h in pixel_hashes(validation_images)])
