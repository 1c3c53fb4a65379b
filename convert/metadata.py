"""Embed a ModelSpec into a TFLite flatbuffer's metadata (workstation side; the edge reads it back
with edge.modelfile). Uses the TFLite schema's generated object API that ships with TensorFlow."""

from __future__ import annotations

from dataclasses import replace

from edge.modelfile import METADATA_NAME, ModelSpec, read_buffers_and_metadata, weights_digest


def _schema():
    try:
        from tensorflow.lite.python import schema_py_generated as schema
    except ImportError:  # ai-edge-litert ships the same generated module
        from ai_edge_litert import schema_py_generated as schema
    return schema


def embed_spec(tflite: bytes, spec: ModelSpec) -> bytes:
    """Return the model with `spec` (plus the hash of its weights) as its '{METADATA_NAME}' metadata.
    An existing entry of that name is replaced, so re-embedding is idempotent."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    model.metadata = model.metadata or []
    existing = [m for m in model.metadata if _name(m) == METADATA_NAME]
    if existing:  # re-embedding: reuse its buffer, so no orphan buffer changes the weight hash
        placeholder = model.buffers[existing[0].buffer]
    else:
        placeholder = schema.BufferT()
        model.buffers.append(placeholder)
        entry = schema.MetadataT()
        entry.name = METADATA_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)
    # Empty first, so the weight hash is taken over the final buffer list.
    placeholder.data = []
    packed = _pack(model, schema, flatbuffers)
    buffers, metadata = read_buffers_and_metadata(packed)
    digest = weights_digest(buffers, set(metadata.values()))
    import numpy as np

    placeholder.data = np.frombuffer(replace(spec, weights_sha256=digest).to_json().encode("utf-8"), dtype=np.uint8)
    return _pack(model, schema, flatbuffers)


def _name(metadata) -> str:
    name = metadata.name
    return name.decode() if isinstance(name, bytes) else (name or "")


def _pack(model, schema, flatbuffers) -> bytes:
    builder = flatbuffers.Builder(1024 * 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
