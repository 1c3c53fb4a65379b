"""What augmentation a preset asks for: a plain dataclass, importable without TensorFlow (the presets list and
`emotions-train --help` need it; train/augment.py applies it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 30.0  # uniform ±
    width_shift: float = 0.2  # fraction of width, uniform ±
    height_shift: float = 0.2
    zoom: float = 0.2  # scale in [1 - zoom, 1 + zoom], x and y independently (as Keras)
    shear: float = 0.2  # shear factor, uniform ±
    horizontal_flip: bool = True
    brightness: tuple[float, float] | None = (0.8, 1.2)  # multiply
    intensity_shift: float = 30.0  # add uniform ±, the grayscale channel_shift_range
    erasing_prob: float = 0.0  # random erasing (Zhong et al. 2017)
    erasing_area: tuple[float, float] = (0.02, 0.25)
    # Random-resized crop (Szegedy et al. 2015): a crop covering `crop_scale` of the image area with a
    # log-uniform width/height ratio in `crop_ratio`, placed wholly inside the image and stretched to full
    # size. It replaces the zoom and shifts above (set them to 0); rotation, shear and flip still apply.
    crop_scale: tuple[float, float] | None = None
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    # Batch mixing (mix_batch): each image is paired with another in its batch, and the targets are
    # mixed by the share of pixels each contributed. Alpha 0 switches a kind off; with both on, each
    # mixed image is mixup or cutmix with equal odds.
    mixup_alpha: float = 0.0  # λ ~ Beta(α, α) (Zhang et al. 2018)
    cutmix_alpha: float = 0.0  # a box of area 1 − λ pasted from the partner (Yun et al. 2019)
    mix_prob: float = 1.0  # the share of images that are mixed at all

    def __post_init__(self) -> None:
        if self.crop_scale is not None:
            low, high = self.crop_scale
            if not 0.0 < low <= high <= 1.0:
                raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
            if not 0.0 < self.crop_ratio[0] <= self.crop_ratio[1]:
                raise ValueError(f"crop_ratio must satisfy 0 < low <= high, got {self.crop_ratio}")
            if self.zoom or self.width_shift or self.height_shift:
                raise ValueError("crop_scale replaces zoom, width_shift and height_shift: set them to 0")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AugmentConfig:
        data = dict(data)
        for key in ("brightness", "erasing_area", "crop_scale", "crop_ratio"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    @property
    def moves_pixels(self) -> bool:
        """Whether any geometric transform is on (one affine warp applies them all)."""
        geometry = (self.rotation_deg, self.width_shift, self.height_shift, self.zoom, self.shear)
        return any(geometry) or self.horizontal_flip or self.crop_scale is not None

    @property
    def enabled(self) -> bool:
        return self.moves_pixels or any([self.brightness is not None, self.intensity_shift, self.erasing_prob])

    @property
    def mixes(self) -> bool:
        return bool((self.mixup_alpha or self.cutmix_alpha) and self.mix_prob)


NO_AUGMENTATION = AugmentConfig(0, 0, 0, 0, 0, False, None, 0, 0)
