"""Batch augmentation inside tf.data, equivalent to the seed's ImageDataGenerator.

Every knob can be switched off (0 / False). All transforms run on whole batches with
stateless random ops, so a given seed gives the same pixels every time and the CPU
spends its time in the model, not in Python.

One deliberate difference: ImageDataGenerator reads `shear_range` in degrees, so the
seed's `shear_range=0.2` sheared by a fifth of a degree (nothing). Here `shear` is the
shear factor (tan of the angle): 0.2 ≈ 11°, which is what the seed meant.
"""

from __future__ import annotations

import math

import tensorflow as tf

from train.augment_config import NO_AUGMENTATION, AugmentConfig

__all__ = ["NO_AUGMENTATION", "AugmentConfig", "augment_batch", "mix_batch"]


def _uniform(seed: tf.Tensor, shape, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high)


def affine_matrices(config: AugmentConfig, batch: int, size: tf.Tensor, seeds: tf.Tensor) -> tf.Tensor:
    """(batch, 8) output→input projective transforms for ImageProjectiveTransformV3."""
    h = tf.cast(size[0], tf.float32)
    w = tf.cast(size[1], tf.float32)
    shape = (batch,)
    angle = _uniform(seeds[0], shape, -1.0, 1.0) * (config.rotation_deg * math.pi / 180.0)
    shear = _uniform(seeds[3], shape, -config.shear, config.shear)
    if config.crop_scale is not None:
        # The crop's width and height as fractions of the image's; the output→input zoom is that fraction,
        # and the crop's centre moves at most as far as keeps the crop inside the image.
        area = _uniform(seeds[1], shape, *config.crop_scale)
        ratio = tf.exp(_uniform(seeds[2], shape, *(math.log(r) for r in config.crop_ratio)))
        zoom_x = tf.minimum(tf.sqrt(area * ratio), 1.0)
        zoom_y = tf.minimum(tf.sqrt(area / ratio), 1.0)
        shift_x = _uniform(seeds[4], shape, -0.5, 0.5) * (1.0 - zoom_x) * w
        shift_y = _uniform(seeds[5], shape, -0.5, 0.5) * (1.0 - zoom_y) * h
    else:
        zoom_x = _uniform(seeds[1], shape, 1.0 - config.zoom, 1.0 + config.zoom)
        zoom_y = _uniform(seeds[2], shape, 1.0 - config.zoom, 1.0 + config.zoom)
        shift_x = _uniform(seeds[4], shape, -config.width_shift, config.width_shift) * w
        shift_y = _uniform(seeds[5], shape, -config.height_shift, config.height_shift) * h
    if config.horizontal_flip:
        flip = tf.where(_uniform(seeds[6], shape, 0.0, 1.0) < 0.5, -1.0, 1.0)
    else:
        flip = tf.ones(shape)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Linear part A = Flip · Zoom · Shear · Rotation, applied about the image centre.
    a00 = flip * zoom_x * (cos + shear * sin)
    a01 = flip * zoom_x * (-sin + shear * cos)
    a10 = zoom_y * sin
    a11 = zoom_y * cos
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    b0 = cx - a00 * cx - a01 * cy + shift_x
    b1 = cy - a10 * cx - a11 * cy + shift_y
    zeros = tf.zeros(shape)
    return tf.stack([a00, a01, b0, a10, a11, b1, zeros, zeros], axis=1)


def augment_batch(images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Augment a float32 batch (B, H, W, C) of 0–255 pixels; returns the same shape and range."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=10)
    batch = tf.shape(images)[0]
    size = tf.shape(images)[1:3]
    if config.moves_pixels:
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=affine_matrices(config, batch, size, seeds),
            output_shape=size,
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="NEAREST",
        )
    if config.brightness is not None:
        low, high = config.brightness
        images = images * _uniform(seeds[7], (batch, 1, 1, 1), low, high)
    if config.intensity_shift:
        images = images + _uniform(seeds[8], (batch, 1, 1, 1), -config.intensity_shift, config.intensity_shift)
    images = tf.clip_by_value(images, 0.0, 255.0)
    if config.erasing_prob:
        images = random_erasing(images, seeds[9], config)
    return images


def _box_mask(h: tf.Tensor, w: tf.Tensor, y0: tf.Tensor, y1: tf.Tensor, x0: tf.Tensor, x1: tf.Tensor) -> tf.Tensor:
    """(B, H, W) True inside each image's box [y0, y1) × [x0, x1), in pixel-index coordinates."""
    ys = tf.range(h)[None, :, None]
    xs = tf.range(w)[None, None, :]
    return ((ys >= y0[:, None, None]) & (ys < y1[:, None, None])
            & (xs >= x0[:, None, None]) & (xs < x1[:, None, None]))


def random_erasing(images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Replace a random rectangle with noise in a fraction `erasing_prob` of the images."""
    s = tf.random.experimental.stateless_split(seed, num=6)
    batch = tf.shape(images)[0]
    h = tf.cast(tf.shape(images)[1], tf.float32)
    w = tf.cast(tf.shape(images)[2], tf.float32)
    area = _uniform(s[0], (batch,), *config.erasing_area) * h * w
    aspect = tf.exp(_uniform(s[1], (batch,), math.log(0.3), math.log(1 / 0.3)))
    eh = tf.minimum(tf.sqrt(area * aspect), h)
    ew = tf.minimum(tf.sqrt(area / aspect), w)
    y0 = _uniform(s[2], (batch,), 0.0, 1.0) * (h - eh)
    x0 = _uniform(s[3], (batch,), 0.0, 1.0) * (w - ew)
    apply = _uniform(s[4], (batch,), 0.0, 1.0) < config.erasing_prob
    inside = _box_mask(h, w, y0, y0 + eh, x0, x0 + ew) & apply[:, None, None]
    noise = tf.random.stateless_uniform(tf.shape(images), seed=s[5], minval=0.0, maxval=255.0)
    return tf.where(inside[..., None], noise, images)


def _beta(seed: tf.Tensor, shape, alpha: float) -> tf.Tensor:
    """Beta(α, α) from two stateless gammas (TF has no stateless beta)."""
    s = tf.random.experimental.stateless_split(seed, num=2)
    a = tf.random.stateless_gamma(shape, seed=s[0], alpha=alpha)
    b = tf.random.stateless_gamma(shape, seed=s[1], alpha=alpha)
    return a / tf.maximum(a + b, 1e-12)


def mix_batch(images: tf.Tensor, targets: tf.Tensor, seed: tf.Tensor, config: AugmentConfig,
              weights: tf.Tensor | None = None):
    """Mixup / cutmix within a batch: image i is mixed with image B−1−i (the batch is already shuffled).

    Returns (images, targets, weights) with targets (and per-image loss weights, if given) mixed by λ, the
    share of image i's own pixels; λ = 1 for images left unmixed. Works for one-hot and soft targets alike."""
    if not config.mixes:
        return images, targets, weights
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=8)
    batch = tf.shape(images)[0]
    h = tf.cast(tf.shape(images)[1], tf.float32)
    w = tf.cast(tf.shape(images)[2], tf.float32)
    partner = tf.reverse(tf.range(batch), axis=[0])
    other = tf.gather(images, partner)

    mixed = _uniform(s[0], (batch,), 0.0, 1.0) < config.mix_prob
    if config.mixup_alpha and config.cutmix_alpha:
        use_cutmix = _uniform(s[1], (batch,), 0.0, 1.0) < 0.5
    else:
        use_cutmix = tf.fill((batch,), bool(config.cutmix_alpha))

    lam_mixup = _beta(s[2], (batch,), config.mixup_alpha) if config.mixup_alpha else tf.ones((batch,))
    mixup_images = lam_mixup[:, None, None, None] * images + (1.0 - lam_mixup[:, None, None, None]) * other

    # cutmix: a box of area (1 − λ)·H·W centred uniformly, clipped at the border; λ is then recomputed
    # from the clipped box so the target matches the pixels.
    lam_cut = _beta(s[3], (batch,), config.cutmix_alpha) if config.cutmix_alpha else tf.ones((batch,))
    cut = tf.sqrt(1.0 - lam_cut)
    cy = _uniform(s[4], (batch,), 0.0, 1.0) * h
    cx = _uniform(s[5], (batch,), 0.0, 1.0) * w
    y0, y1 = tf.clip_by_value(cy - cut * h / 2, 0.0, h), tf.clip_by_value(cy + cut * h / 2, 0.0, h)
    x0, x1 = tf.clip_by_value(cx - cut * w / 2, 0.0, w), tf.clip_by_value(cx + cut * w / 2, 0.0, w)
    box = _box_mask(h, w, y0, y1, x0, x1)
    cutmix_images = tf.where(box[..., None], other, images)
    lam_cut = 1.0 - tf.reduce_mean(tf.cast(box, tf.float32), axis=[1, 2])

    lam = tf.where(mixed, tf.where(use_cutmix, lam_cut, lam_mixup), 1.0)
    chosen = tf.where(use_cutmix[:, None, None, None], cutmix_images, mixup_images)
    images = tf.where(mixed[:, None, None, None], chosen, images)
    targets = lam[:, None] * targets + (1.0 - lam[:, None]) * tf.gather(targets, partner)
    if weights is not None:
        weights = lam * weights + (1.0 - lam) * tf.gather(weights, partner)
    return images, targets, weights
