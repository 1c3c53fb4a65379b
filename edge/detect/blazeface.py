"""MediaPipe BlazeFace (short range) run with our TFLite runtime; the post-processing is ours.

The model (assets/models/face_detection_short_range.tflite, Apache-2.0, see its NOTICE) takes a
128×128 RGB image in [-1, 1] and answers, for each of 896 fixed anchors, a box regression
(16 numbers: centre offset, size, 6 keypoints) and a face logit. We rebuild the anchor grid the
model was trained with (SSD layout, strides 8/16/16/16, all anchors of unit size), decode the
boxes and their keypoints (the crop centre is placed from eyes, nose and mouth) and merge
overlapping ones with weighted NMS (the average of a cluster, weighted by score, is steadier from
frame to frame than the single best box).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.detect import Detection, DetectorError, rank
from edge.runtime import allocate, select_runtime

MODEL_PATH = Path(__file__).resolve().parents[2] / "assets" / "models" / "face_detection_short_range.tflite"
INPUT = 128
KEYPOINTS = 6


def make_anchors(size: int = INPUT, strides: tuple[int, ...] = (8, 16, 16, 16)) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1], in the order the model emits them.

    Consecutive layers with the same stride share one feature map; each layer adds two anchors
    per cell (its own scale and the interpolated one), so stride 8 gives 16×16×2 and the three
    stride-16 layers give 8×8×6: 896 anchors. Their sizes are all 1 (fixed anchor size), so
    only the centres matter.
    """
    centres = []
    i = 0
    while i < len(strides):
        stride = strides[i]
        layers = 0
        while i < len(strides) and strides[i] == stride:
            layers += 1
            i += 1
        cells = int(np.ceil(size / stride))
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, 2 * layers, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def decode(raw: np.ndarray, anchors: np.ndarray, size: int = INPUT) -> np.ndarray:
    """Regressions (N, ≥4) → boxes (N, 4) as x1, y1, x2, y2 normalised to the model input."""
    cx = raw[:, 0] / size + anchors[:, 0]
    cy = raw[:, 1] / size + anchors[:, 1]
    w, h = raw[:, 2] / size, raw[:, 3] / size
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def decode_keypoints(raw: np.ndarray, anchors: np.ndarray, size: int = INPUT) -> np.ndarray:
    """Regressions (N, 16) → keypoints (N, 6, 2) normalised to the model input: offsets from the
    anchor centre, like the box centre (right eye, left eye, nose tip, mouth, right ear, left ear)."""
    return raw[:, 4:16].reshape(-1, KEYPOINTS, 2) / size + anchors[:, None, :]


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2, y2 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = 0.3) -> list[tuple[np.ndarray, float]]:
    """Clusters of boxes overlapping the best remaining one by more than `threshold` IoU,
    each merged into its score-weighted mean box with the best score. Columns after the first
    four (x1, y1, x2, y2) ride along and are averaged the same way (keypoints)."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    out = []
    while len(boxes):
        overlap = iou(boxes[0], boxes) > threshold
        overlap[0] = True
        weights = scores[overlap]
        out.append(((boxes[overlap] * weights[:, None]).sum(0) / weights.sum(), float(scores[0])))
        boxes, scores = boxes[~overlap], scores[~overlap]
    return out


class BlazeFace:
    name = "blazeface"

    def __init__(
        self,
        model: Path = MODEL_PATH,
        threads: int = 1,
        min_score: float = 0.5,
        nms_iou: float = 0.3,
        zoom_fallback: bool = True,
    ):
        runtime = select_runtime()
        try:
            self._interp = runtime.interpreter_class(model_path=str(model), num_threads=max(1, threads))
            allocate(self._interp)
        except (ValueError, RuntimeError, OSError) as err:
            raise DetectorError(f"{model}: cannot load the face detector ({str(err).strip()[:120]})") from None
        inp = self._interp.get_input_details()[0]
        outs = {d["name"]: d["index"] for d in self._interp.get_output_details()}
        if tuple(inp["shape"]) != (1, INPUT, INPUT, 3) or not {"regressors", "classificators"} <= set(outs):
            raise DetectorError(f"{model}: not the BlazeFace short-range model (input {tuple(inp['shape'])})")
        self._in, self._reg, self._cls = inp["index"], outs["regressors"], outs["classificators"]
        self.anchors = make_anchors()
        self.min_score, self.nms_iou = min_score, nms_iou
        # The short-range model sees faces down to ~20–30 px of its 128 px input; a visitor 2 m away
        # in a 640 px frame is smaller than that, so when the whole frame shows nobody we look again
        # at the centre, where the visitor stands (costs extra invokes only on frames without a face).
        self.zoom_fallback = zoom_fallback
        self._canvas = np.zeros((INPUT, INPUT), np.uint8)

    def _run(self, gray: np.ndarray) -> list[Detection]:
        h, w = gray.shape[:2]
        s = INPUT / max(w, h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        ox, oy = (INPUT - nw) // 2, (INPUT - nh) // 2  # letterbox: keep the aspect ratio, pad centred
        canvas = self._canvas
        canvas[:] = 0
        canvas[oy : oy + nh, ox : ox + nw] = cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA)
        x = canvas.astype(np.float32) * (2 / 255) - 1
        self._interp.set_tensor(self._in, np.repeat(x[None, :, :, None], 3, axis=3))  # gray → 3 equal channels
        self._interp.invoke()
        logits = self._interp.get_tensor(self._cls)[0, :, 0]
        keep = logits > np.log(self.min_score / (1 - self.min_score))  # sigmoid(logit) > min_score
        if not keep.any():
            return []
        raw = self._interp.get_tensor(self._reg)[0][keep]
        scores = 1 / (1 + np.exp(-np.clip(logits[keep], -100, 100)))
        anchors = self.anchors[keep]
        boxes = np.concatenate([decode(raw, anchors), decode_keypoints(raw, anchors).reshape(-1, 2 * KEYPOINTS)], 1)
        found = []
        for merged, score in weighted_nms(boxes * INPUT, scores, self.nms_iou):
            xs, ys = (merged[0::2] - ox) / s, (merged[1::2] - oy) / s  # back to frame pixels
            x1, y1, x2, y2 = xs[0], ys[0], xs[1], ys[1]
            keypoints = tuple((float(x), float(y)) for x, y in zip(xs[2:], ys[2:]))
            found.append(Detection((float(x1), float(y1), float(x2 - x1), float(y2 - y1)), score, keypoints))
        return found

    def detect(self, gray: np.ndarray) -> list[Detection]:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ValueError(f"detect() needs a 2-D uint8 grayscale image, got {gray.dtype} {gray.shape}")
        h, w = gray.shape
        found = self._run(gray)
        # Nobody in the whole (letterboxed) frame: look closer at the centre, first the central
        # square (no letterbox bars, 1.33× bigger at 4:3), then its central half (2× more).
        sides = (min(w, h), min(w, h) // 2) if self.zoom_fallback else ()
        for side in sides:
            if found or side < INPUT or (side == min(w, h) and w == h):
                continue
            x0, y0 = (w - side) // 2, (h - side) // 2
            found = [
                Detection((d.box[0] + x0, d.box[1] + y0, d.box[2], d.box[3]), d.score,
                          tuple((kx + x0, ky + y0) for kx, ky in d.keypoints))
                for d in self._run(gray[y0 : y0 + side, x0 : x0 + side])
            ]
        return rank(found, (w, h))
