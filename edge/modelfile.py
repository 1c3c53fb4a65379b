"""The model file's own description: what it expects, what it answers, and how to crop for it.

A shipped `.tflite` carries a JSON `ModelSpec` in its flatbuffer metadata (entry
"emotions_in_action"). Training writes the spec's inputs, the converter embeds it, and the edge
reads it here without TensorFlow. A file without it, with a damaged flatbuffer, with weights that
no longer match the recorded hash, or with labels that disagree with `edge.labels` is refused
with a one-line `ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edge.labels import EMOTIONS

METADATA_NAME = "emotions_in_action"
SPEC_SCHEMA = 2  # 2: the crop may carry keypoint_centre
READABLE_SCHEMAS = (1, 2)


class ModelFileError(Exception):
    """The model file cannot be used; the message is one line naming the file and the reason."""


@dataclass(frozen=True)
class CropSpec:
    """How a face detector box becomes the model's input crop.

    The crop is a square of side `scale * max(w, h)` centred at the box centre moved by
    (`dx` * w, `dy` * h). The defaults frame like FER2013 for a tight face box; the calibrated
    values are fitted from data for the shipped detector and stored in the model file.

    A detector that also finds facial keypoints (BlazeFace: eyes, nose tip, mouth first) can place
    the centre better than the box edges do: `keypoint_centre` is then a fitted linear map (9 rows
    of (x, y)) from the first four keypoints, relative to the box centre in units of the box side
    and followed by a 1, to the centre's offset in the same units. Empty means box only.
    """

    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0
    detector: str = "none"  # which detector the calibration was fitted for
    keypoint_centre: tuple[tuple[float, float], ...] = ()

    KEYPOINTS = 4  # eyes, nose tip, mouth: the ears swing with head turns and predict worse

    @classmethod
    def from_dict(cls, data: dict) -> CropSpec:
        """From a calibration file or metadata entry; unknown keys (fit statistics) are ignored."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def __post_init__(self):
        rows = tuple(tuple(float(v) for v in row) for row in self.keypoint_centre)  # JSON gives lists
        if rows and (len(rows) != 2 * self.KEYPOINTS + 1 or any(len(r) != 2 for r in rows)):
            raise ValueError(f"keypoint_centre needs {2 * self.KEYPOINTS + 1} rows of 2 numbers, got {len(rows)}")
        object.__setattr__(self, "keypoint_centre", rows)

    @classmethod
    def keypoint_features(cls, box: tuple[float, float, float, float], keypoints) -> list[float] | None:
        """The input of the keypoint map: the first four keypoints relative to the box centre in units
        of the box side, then a 1 (None without enough keypoints). The calibration fits on exactly this."""
        x, y, w, h = box
        side = max(w, h)
        if len(keypoints) < cls.KEYPOINTS or side <= 0:
            return None
        cx, cy = x + w / 2, y + h / 2
        return [v for kx, ky in keypoints[: cls.KEYPOINTS] for v in ((kx - cx) / side, (ky - cy) / side)] + [1.0]

    def apply(self, box: tuple[float, float, float, float], keypoints=()) -> tuple[float, float, float]:
        """Detector box (x, y, w, h) and optional keypoints ((x, y), …) → crop (centre x, centre y, side)."""
        x, y, w, h = box
        side = max(w, h)
        cx, cy = x + w / 2, y + h / 2
        features = self.keypoint_features(box, keypoints) if self.keypoint_centre else None
        if features:
            ox = sum(f * c[0] for f, c in zip(features, self.keypoint_centre))
            oy = sum(f * c[1] for f, c in zip(features, self.keypoint_centre))
            return cx + ox * side, cy + oy * side, self.scale * side
        return cx + self.dx * w, cy + self.dy * h, self.scale * side


@dataclass(frozen=True)
class ModelSpec:
    labels: tuple[str, ...] = EMOTIONS
    input_size: int = 48
    channels: int = 1
    # Pixels go in as raw grayscale 0–255 (as float, or quantised with the input tensor's own
    # scale/zero-point); the network rescales inside, so there is nothing else to get wrong.
    pixel_range: tuple[float, float] = (0.0, 255.0)
    crop: CropSpec = field(default_factory=CropSpec)
    name: str = "emotion"
    version: str = "0"
    run_id: str = ""
    quantization: str = "int8"
    metrics: dict = field(default_factory=dict)
    weights_sha256: str = ""
    extra: dict = field(default_factory=dict)
    schema: int = SPEC_SCHEMA

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        data = json.loads(text)
        if data.get("schema") not in READABLE_SCHEMAS:
            raise ValueError(f"metadata schema {data.get('schema')!r}, this program reads "
                             f"{', '.join(map(str, READABLE_SCHEMAS))}")
        data["labels"] = tuple(data["labels"])
        data["pixel_range"] = tuple(data["pixel_range"])
        data["crop"] = CropSpec.from_dict(data.get("crop", {}))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


# --- a minimal, bounds-checked flatbuffer reader for the parts of the TFLite schema we need ---
# Model: version(0) operator_codes(1) subgraphs(2) description(3) buffers(4) metadata_buffer(5)
# metadata(6); Buffer: data(0) offset(1) size(2); Metadata: name(0) buffer(1).


class _Reader:
    def __init__(self, data: bytes):
        self.data = data

    def u32(self, pos: int) -> int:
        if pos < 0 or pos + 4 > len(self.data):
            raise ValueError("offset out of range")
        return struct.unpack_from("<I", self.data, pos)[0]

    def u64(self, pos: int) -> int:
        if pos < 0 or pos + 8 > len(self.data):
            raise ValueError("offset out of range")
        return struct.unpack_from("<Q", self.data, pos)[0]

    def field(self, table: int, index: int) -> int | None:
        """Absolute position of field `index` of the table at `table`, or None when absent."""
        vtable = table - struct.unpack_from("<i", self.data, table)[0]
        if vtable < 0 or vtable + 4 > len(self.data):
            raise ValueError("bad vtable")
        vsize = struct.unpack_from("<H", self.data, vtable)[0]
        entry = 4 + 2 * index
        if entry + 2 > vsize:
            return None
        offset = struct.unpack_from("<H", self.data, vtable + entry)[0]
        return table + offset if offset else None

    def deref(self, pos: int) -> int:
        return pos + self.u32(pos)

    def vector(self, pos: int) -> tuple[int, int]:
        start = self.deref(pos)
        length = self.u32(start)
        if start + 4 + length > len(self.data):  # every element is at least one byte
            raise ValueError("vector out of range")
        return start + 4, length

    def tables(self, table: int, index: int) -> list[int]:
        pos = self.field(table, index)
        if pos is None:
            return []
        start, length = self.vector(pos)
        return [self.deref(start + 4 * i) for i in range(length)]

    def string(self, table: int, index: int) -> str:
        pos = self.field(table, index)
        if pos is None:
            return ""
        start, length = self.vector(pos)
        return self.data[start : start + length].decode("utf-8")

    def bytes_of_buffer(self, buffer_table: int) -> bytes:
        pos = self.field(buffer_table, 0)
        if pos is not None:
            start, length = self.vector(pos)
            if start + length > len(self.data):
                raise ValueError("buffer out of range")
            return self.data[start : start + length]
        offset_pos, size_pos = self.field(buffer_table, 1), self.field(buffer_table, 2)
        if offset_pos is None or size_pos is None:
            return b""
        offset, size = self.u64(offset_pos), self.u64(size_pos)
        if offset + size > len(self.data):
            raise ValueError("buffer out of range")
        return self.data[offset : offset + size]


def read_buffers_and_metadata(data: bytes) -> tuple[list[bytes], dict[str, int]]:
    """All buffers of a TFLite flatbuffer and its metadata entries (name → buffer index)."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ValueError("not a TFLite flatbuffer")
    reader = _Reader(data)
    root = reader.u32(0)
    buffers = [reader.bytes_of_buffer(t) for t in reader.tables(root, 4)]
    metadata = {}
    for table in reader.tables(root, 6):
        index_pos = reader.field(table, 1)
        metadata[reader.string(table, 0)] = reader.u32(index_pos) if index_pos is not None else 0
    return buffers, metadata


def weights_digest(buffers: list[bytes], skip: set[int]) -> str:
    """SHA-256 over every buffer except the metadata ones: changes when any weight changes."""
    digest = hashlib.sha256()
    for i, buf in enumerate(buffers):
        if i not in skip:
            digest.update(len(buf).to_bytes(8, "little"))
            digest.update(buf)
    return digest.hexdigest()


def read_spec(path: str | Path) -> ModelSpec:
    """The spec embedded in a .tflite file, checked against its weights and this program's labels."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"{path}: cannot read model file ({err.strerror or err})") from None
    try:
        buffers, metadata = read_buffers_and_metadata(data)
    except (ValueError, struct.error, UnicodeDecodeError) as err:
        raise ModelFileError(f"{path}: not a valid TFLite model ({err}); truncated or damaged?") from None
    if METADATA_NAME not in metadata:
        raise ModelFileError(
            f"{path}: no '{METADATA_NAME}' metadata; convert the model with emotions-convert so it carries "
            "its labels and preprocessing"
        )
    index = metadata[METADATA_NAME]
    if index >= len(buffers):
        raise ModelFileError(f"{path}: metadata points at a missing buffer; the file is damaged")
    try:
        spec = ModelSpec.from_json(buffers[index].decode("utf-8"))
    except (ValueError, TypeError, KeyError) as err:
        raise ModelFileError(f"{path}: unreadable model metadata ({err})") from None
    skip = set(metadata.values())
    if spec.weights_sha256 and weights_digest(buffers, skip) != spec.weights_sha256:
        raise ModelFileError(f"{path}: weights do not match the hash in its metadata; the file was altered")
    check_labels(spec, path)
    return spec


def check_labels(spec: ModelSpec, path: str | Path = "model") -> None:
    if tuple(spec.labels) != EMOTIONS:
        raise ModelFileError(
            f"{path}: model labels {list(spec.labels)} differ from this program's {list(EMOTIONS)}"
        )
