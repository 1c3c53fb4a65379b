"""A tiny but real int8 emotion model for tests (needs TensorFlow; callers skip without it).

Until `convert` provides the real converter, this builds a small Keras CNN with the shipped
model's interface (48×48×1 raw 0–255 pixels in, Rescaling inside, 7-way softmax out), converts it
to full-int8 TFLite calibrated on real FER faces, and embeds a ModelSpec the way the converter
will: an extra buffer holding the JSON plus a metadata entry named edge.modelfile.METADATA_NAME.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.labels import EMOTIONS
from edge.modelfile import METADATA_NAME, CropSpec, ModelSpec, read_buffers_and_metadata, weights_digest


def embed_spec(tflite: bytes, spec: ModelSpec) -> bytes:
    """`tflite` with `spec` stored as metadata and its weights hash filled in."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    buffers, metadata = read_buffers_and_metadata(tflite)
    index = len(model.buffers)
    skip = set(metadata.values()) | {index}
    digest = weights_digest(buffers + [b""], skip)  # the metadata buffer is excluded, so its content is irrelevant
    spec = ModelSpec(**{**spec.__dict__, "weights_sha256": digest})
    buf = schema.BufferT()
    buf.data = np.frombuffer(spec.to_json().encode("utf-8"), dtype=np.uint8)
    model.buffers.append(buf)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = index
    model.metadata = (model.metadata or []) + [entry]
    import flatbuffers

    builder = flatbuffers.Builder(len(tflite) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def make_tiny_model(path: str | Path, faces: np.ndarray, labels: np.ndarray | None = None, epochs: int = 0,
                    crop: CropSpec | None = None, seed: int = 0) -> Path:
    """Write a tiny int8 model to `path`. `faces`: (N, 48, 48) uint8 real faces for calibration
    (and training when `labels` and `epochs` are given)."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    inputs = tf.keras.Input((48, 48, 1))
    x = tf.keras.layers.Rescaling(1 / 255.0)(inputs)
    x = tf.keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    x = tf.keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(len(EMOTIONS), activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    if labels is not None and epochs:
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(faces[..., None].astype(np.float32), labels, epochs=epochs, batch_size=64, verbose=0)

    def representative():
        for face in faces[:64]:
            yield [face[None, :, :, None].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    tflite = converter.convert()
    spec = ModelSpec(name="tiny-test", version="test", crop=crop or CropSpec())
    path = Path(path)
    path.write_bytes(embed_spec(tflite, spec))
    return path
