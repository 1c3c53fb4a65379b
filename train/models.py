"""Keras model builders. Every model takes raw 0–255 grayscale pixels and rescales inside,
so the edge feeds pixels as they come and the int8 input quantisation is exact."""

from __future__ import annotations

import keras
from keras import layers, regularizers

from edge.labels import EMOTIONS


def _activation(kind: str) -> layers.Layer:
    return layers.LeakyReLU(negative_slope=0.1) if kind == "leaky" else layers.ReLU()


def _inputs(input_size: int, native_size: int) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Input of native-size raw pixels; resized inside the model when the net wants another size."""
    inputs = keras.Input((native_size, native_size, 1), name="pixels")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    if input_size != native_size:
        x = layers.Resizing(input_size, input_size, interpolation="bilinear", name="resize")(x)
    return inputs, x


def seed_cnn(
    *,
    input_size: int = 48,
    native_size: int = 48,
    filters: tuple[int, ...] = (64, 128, 256),
    conv_dropout: float = 0.25,
    dense_units: int = 512,
    dense_dropout: float = 0.5,
    l2: float = 0.001,
    activation: str = "relu",
    global_pool: bool = False,
    initializer: str = "glorot_uniform",
) -> keras.Model:
    """The original study's CNN: blocks of two 3×3 convs + BN, max-pool and dropout, then Dense."""
    inputs, x = _inputs(input_size, native_size)
    for n in filters:
        for _ in range(2):
            x = layers.Conv2D(n, 3, padding="same", use_bias=False, kernel_initializer=initializer)(x)
            x = layers.BatchNormalization()(x)
            x = _activation(activation)(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(conv_dropout)(x)
    x = layers.GlobalAveragePooling2D()(x) if global_pool else layers.Flatten()(x)
    x = layers.Dense(dense_units, kernel_regularizer=regularizers.l2(l2), kernel_initializer=initializer)(x)
    x = layers.BatchNormalization()(x)
    x = _activation(activation)(x)
    x = layers.Dropout(dense_dropout)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def _res_block(x, filters: int, l2: float, name: str, separable: bool = False):
    """Two 3×3 convs with a projection shortcut when the width changes (pooling happens outside:
    a strided 1×1 shortcut crashes oneDNN at ≥ 64 px, see docs/fer-research notes). Separable convs cost about
    a ninth of a full one per channel, so the same budget buys several times the width."""
    reg = regularizers.l2(l2) if l2 else None
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, use_bias=False, kernel_regularizer=reg, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = x
    for i in (1, 2):
        if separable:
            conv = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, pointwise_regularizer=reg,
                                          name=f"{name}_sep{i}")
        else:
            conv = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_regularizer=reg,
                                 name=f"{name}_conv{i}")
        y = layers.BatchNormalization(name=f"{name}_bn{i}")(conv(y))
        if i == 1:
            y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def compact_resnet(
    *,
    input_size: int = 48,
    native_size: int = 48,
    stem: int = 32,
    stem_convs: int = 1,
    widths: tuple[int, ...] = (48, 96, 192),
    dropout: float = 0.4,
    l2: float = 1e-4,
    separable: bool = False,
    blocks: int = 1,
) -> keras.Model:
    """A small residual CNN sized for a 2-core CPU at 48 px (defaults: ~55 M MACs, ~0.7 M parameters).

    Cost per stage is roughly constant (resolution halves, width doubles), so the budget is set by
    the number of stages and the first width; full-resolution convs are kept to one (they dominate).
    `blocks` residual blocks per stage add depth; narrower widths pay for it (ResNet-18 has two)."""
    reg = regularizers.l2(l2) if l2 else None
    inputs, x = _inputs(input_size, native_size)
    for i in range(stem_convs):
        x = layers.Conv2D(stem, 3, padding="same", use_bias=False, kernel_regularizer=reg, name=f"stem_conv{i}")(x)
        x = layers.BatchNormalization(name=f"stem_bn{i}")(x)
        x = layers.ReLU(name=f"stem_relu{i}")(x)
    for stage, width in enumerate(widths):
        x = layers.MaxPooling2D(name=f"pool{stage}")(x)
        for block in range(blocks):
            # the first block keeps the one-block name, so earlier runs' layer names are unchanged
            name = f"stage{stage}" if block == 0 else f"stage{stage}b{block}"
            x = _res_block(x, width, l2, name=name, separable=separable)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", kernel_regularizer=reg, name="scores")(x)
    return keras.Model(inputs, outputs, name="separable_resnet" if separable else "compact_resnet")


def separable_resnet(*, widths: tuple[int, ...] = (96, 192, 384), l2: float = 5e-5, **kwargs) -> keras.Model:
    """compact_resnet with depthwise-separable blocks: a net whose errors may differ from the compact_resnet
    members it would be merged with."""
    return compact_resnet(widths=widths, l2=l2, separable=True, **kwargs)


def mobilenet_v2_frozen(
    *, input_size: int = 96, native_size: int = 48, alpha: float = 1.0, weights: str | None = None
) -> keras.Model:
    """Seed trial 9: MobileNetV2 with its own preprocess_input. ImageNet weights cannot be
    downloaded here, so the backbone is frozen only when a local weights file is given;
    without one it trains from scratch (the caller logs this)."""
    inputs = keras.Input((native_size, native_size, 1), name="pixels")
    x = layers.Resizing(input_size, input_size, name="resize")(inputs)
    x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess_input")(x)  # = mobilenet_v2.preprocess_input
    backbone = keras.applications.MobileNetV2(
        input_shape=(input_size, input_size, 3), alpha=alpha, include_top=False, weights=None
    )
    if weights:
        backbone.load_weights(weights)
        backbone.trainable = False
    x = backbone(x, training=False if weights else None)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")


def tiny_cnn(*, input_size: int = 48, native_size: int = 48, width: int = 8) -> keras.Model:
    """A few-thousand-parameter net for tests and CI smoke runs."""
    inputs, x = _inputs(input_size, native_size)
    for n in (width, width * 2):
        x = layers.Conv2D(n, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="tiny_cnn")


BUILDERS = {
    "seed_cnn": seed_cnn,
    "compact_resnet": compact_resnet,
    "separable_resnet": separable_resnet,
    "mobilenet_v2": mobilenet_v2_frozen,
    "tiny_cnn": tiny_cnn,
}

