"""Test-time views: the copies of a face crop the classifier answers for, whose answers are averaged.

The plain crop always comes first; `mirror` adds its mirror image, and each factor in `zooms` adds the
crop zoomed about its centre (1.1 = the face 10 % larger, the border cut) together with its mirror when
`mirror` is on. On the FER2013 holdout, mirror + 1.1 zoom (4 passes) beat the mirror alone for all six
models tried (+0.5 to +1.1 points; scripts/holdout_tta.py). The views travel in the model file's metadata
(`flip_average`, `zoom_views`), so the exhibit, `emotions-convert verify` and `emotions-train adjust` use the
same ones. On a live stream the pipeline can spend one pass per frame and cycle through them instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ZOOM_RANGE = (0.5, 2.0)  # outside it a view is mostly border or mostly lost


@dataclass(frozen=True)
class TestTimeViews:
    __test__ = False  # not a pytest test class, whatever its name says
    mirror: bool = False
    zooms: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        zooms = tuple(float(z) for z in self.zooms)
        low, high = ZOOM_RANGE
        for z in zooms:
            if not low <= z <= high or z == 1.0:
                raise ValueError(f"zoom views must lie in {low}–{high} and not be 1 (the plain view), got {z:g}")
        if len(set(zooms)) != len(zooms):
            raise ValueError(f"zoom views repeat: {', '.join(f'{z:g}' for z in zooms)}")
        object.__setattr__(self, "mirror", bool(self.mirror))
        object.__setattr__(self, "zooms", zooms)

    @property
    def count(self) -> int:
        """Classifier passes per face."""
        return (1 + len(self.zooms)) * (2 if self.mirror else 1)

    def view(self, crops: np.ndarray, index: int) -> np.ndarray:
        """View `index` (0 = plain) of (N, S, S) uint8 crops, in the order plain, mirror, zoom, zoom mirrored, …"""
        if not 0 <= index < self.count:
            raise IndexError(f"view {index} of {self.count}")
        scale_index, mirrored = divmod(index, 2) if self.mirror else (index, 0)
        out = crops if scale_index == 0 else zoom(crops, self.zooms[scale_index - 1])
        return out[:, :, ::-1] if mirrored else out

    def describe(self) -> str:
        parts = ["plain"] + (["mirror"] if self.mirror else []) + [f"zoom {z:g}" for z in self.zooms]
        return " + ".join(parts) + (" (each zoom mirrored too)" if self.mirror and self.zooms else "") + \
            f", {self.count} pass{'es' if self.count > 1 else ''} per face"

    def to_extra(self) -> dict:
        """The model file's metadata fields."""
        return {"flip_average": self.mirror, "zoom_views": list(self.zooms)}

    @classmethod
    def from_extra(cls, extra: dict) -> TestTimeViews:
        """From the model file's metadata (files without `zoom_views` predate it: no zoom)."""
        zooms = extra.get("zoom_views") or []
        if not isinstance(zooms, list) or not all(isinstance(z, (int, float)) for z in zooms):
            raise ValueError(f"zoom_views must be a list of numbers, got {zooms!r}")
        return cls(bool(extra.get("flip_average", False)), tuple(zooms))


def zoom(crops: np.ndarray, scale: float) -> np.ndarray:
    """(N, S, S) uint8 crops scaled by `scale` about their centre, at the same size; edges are continued
    outward (as the crop from a frame is), never black borders the model did not see in training."""
    size = crops.shape[-1]
    centre = (size - 1) / 2
    matrix = cv2.getRotationMatrix2D((centre, centre), 0.0, scale)
    return np.stack([cv2.warpAffine(c, matrix, (size, size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) for c in crops])
