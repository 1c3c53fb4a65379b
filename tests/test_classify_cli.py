"""`emotions classify`: JSON schema, error entries, whole-image mode, table output."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from edge.cli import main
from edge.labels import EMOTIONS


@pytest.fixture(scope="module")
def images(tmp_path_factory, astronaut_gray, val_faces, backgrounds):
    from convert.calibrate_crop import compose

    root = tmp_path_factory.mktemp("images")
    cv2.imwrite(str(root / "astronaut.png"), astronaut_gray)
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    folder = root / "faces" / "nested"
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "fer_face.png"), val_faces[0][20])
    two = compose(val_faces[0][18], backgrounds[4], np.random.default_rng(1), side=240, centre=(440, 240)).gray
    two[170:310, 40:180] = cv2.resize(val_faces[0][30], (140, 140), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(root / "two_faces.png"), two)  # the larger face on the right
    return root


# edge/cli.py imports every command module up front, `run` (pygame) included; pygame prints a
# banner on stdout at first import. In-process tests may see it once; the subprocess test below
# checks the real CLI's stdout.
PYGAME_BANNER = ("pygame ", "Hello from the pygame community")


def json_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if not line.startswith(PYGAME_BANNER)]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["classify", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_schema_and_error_entries(capsys, images, tiny_model):
    code, out, _ = run(capsys, "--json", "--model", tiny_model, images / "astronaut.png", images / "corrupt.jpg",
                       images / "missing.png")
    assert code == 1  # a file failed; the others were still classified
    records = [json.loads(line) for line in json_lines(out)]
    assert [r["path"] for r in records] == [str(images / n) for n in ("astronaut.png", "corrupt.jpg", "missing.png")]
    astro, corrupt, missing = records
    assert astro["error"] is None and len(astro["faces"]) == 1
    face = astro["faces"][0]
    assert set(face) == {"box", "emotion", "confidence", "scores"}
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    assert list(face["scores"]) == list(EMOTIONS)
    assert face["emotion"] == max(face["scores"], key=face["scores"].get)
    assert face["confidence"] == face["scores"][face["emotion"]]
    assert sum(face["scores"].values()) == pytest.approx(1, abs=0.05)
    assert corrupt["faces"] == [] and "cannot decode" in corrupt["error"]
    assert missing["faces"] == [] and "no such file" in missing["error"]


def test_faces_come_largest_first(capsys, images, tiny_model):
    code, out, _ = run(capsys, "--json", "--model", tiny_model, images / "two_faces.png")
    assert code == 0
    (line,) = json_lines(out)
    faces = json.loads(line)["faces"]
    assert len(faces) == 2
    areas = [f["box"][2] * f["box"][3] for f in faces]
    assert areas[0] > areas[1] and faces[0]["box"][0] > faces[1]["box"][0]  # the big face is the right-hand one


def test_folders_are_searched_recursively_and_whole_image_skips_detection(capsys, images, tiny_model, val_faces):
    from edge.classify import Classifier, ClassifierOptions

    code, out, _ = run(capsys, "--json", "--whole-image", "--model", tiny_model, images / "faces")
    assert code == 0
    (record,) = [json.loads(line) for line in json_lines(out)]
    assert record["path"].endswith("fer_face.png")
    (face,) = record["faces"]
    assert face["box"] == [0, 0, 48, 48]
    want = Classifier(ClassifierOptions(model=tiny_model)).predict(val_faces[0][20])[0]
    assert [face["scores"][e] for e in EMOTIONS] == pytest.approx(want.tolist(), abs=1e-3)


def test_table_output(capsys, images, tiny_model):
    code, out, err = run(capsys, "--model", tiny_model, images / "astronaut.png", images / "corrupt.jpg")
    assert code == 1
    lines = [line for line in out.splitlines() if not line.startswith(PYGAME_BANNER)]
    assert lines[0].split()[:3] == ["path", "faces", "emotion"]
    assert "astronaut.png" in lines[1] and lines[1].split()[1] == "1"
    assert "corrupt.jpg" in lines[2] and "error" in lines[2]
    assert "1 of 2 images could not be read" in err


def test_missing_model_is_a_one_line_error(capsys, images, tmp_path):
    code, out, err = run(capsys, "--model", tmp_path / "nope.tflite", images / "astronaut.png")
    assert code == 2 and "{" not in out
    assert err.count("\n") == 1 and "cannot read model file" in err


def test_model_that_is_not_a_model_is_refused(capsys, images, tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"x" * 100)
    code, _, err = run(capsys, "--model", bad, images / "astronaut.png")
    assert code == 2 and "not a valid TFLite model" in err and "Traceback" not in err


def test_json_stdout_is_only_json(images, tiny_model):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-m", "edge.cli", "classify", "--json", "--model", str(tiny_model),
                           str(images / "astronaut.png")], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    assert all(line.startswith("{") for line in done.stdout.splitlines())
