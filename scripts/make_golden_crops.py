"""Write the doctor's golden face crops: faces of the bundled demo video, found and cropped by the real
pipeline, named `<top class>_<n>.png` by the shipped model. Regenerate after shipping a new model:

    python scripts/make_golden_crops.py
"""

from pathlib import Path

import cv2

from edge.classify import Classifier
from edge.crop import crop_faces, resolve_crop
from edge.detect import make_detector

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "golden"


def main(min_confidence: float = 0.6, per_face_gap: int = 10) -> None:
    clf = Classifier()
    detector = make_detector("auto")
    crop = resolve_crop(clf.spec.crop, detector.name)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    video = cv2.VideoCapture(str(ROOT / "assets" / "demo" / "demo.mp4"))
    index, last_saved, written = 0, -per_face_gap, 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        index += 1
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = detector.detect(gray)
        if not faces or index - last_saved < per_face_gap:
            continue
        face = crop_faces(gray, faces[:1], crop, clf.input_size)[0]
        probs = clf.predict(face)[0]
        if probs.max() >= min_confidence:
            cv2.imwrite(str(OUT / f"{clf.labels[int(probs.argmax())]}_{written}.png"), face)
            written, last_saved = written + 1, index
    print(f"wrote {written} golden crops to {OUT}")


if __name__ == "__main__":
    main()
