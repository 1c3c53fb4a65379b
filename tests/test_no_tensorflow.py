"""The device never imports TensorFlow: every edge module imports, and classify runs on a real
image, in a subprocess where importing tensorflow fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import importlib, importlib.abc, json, pkgutil, sys

class BlockTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"blocked for this test: {name}")
        return None

sys.meta_path.insert(0, BlockTensorFlow())
import edge
failed = {}
for info in pkgutil.walk_packages(edge.__path__, "edge."):
    try:
        importlib.import_module(info.name)
    except ImportError as err:
        failed[info.name] = str(err)
from edge.cli import main
code = main(["classify", "--json", "--model", sys.argv[1], sys.argv[2]])
loaded = sorted(m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow."))
print(json.dumps({"code": code, "failed": failed, "tf": loaded}))
"""


def test_edge_runs_without_tensorflow(tmp_path, tiny_model, astronaut_gray):
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), astronaut_gray)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tiny_model), str(image)],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    classify_line, report = json.loads(lines[-2]), json.loads(lines[-1])
    assert report["tf"] == []
    blocked = {name: err for name, err in report["failed"].items() if "tensorflow" in err}
    assert blocked == {}, f"edge modules that need TensorFlow: {blocked}"
    assert report["code"] == 0
    assert classify_line["error"] is None and len(classify_line["faces"]) == 1
