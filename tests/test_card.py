"""convert/card.py and the training facts it is written from, for a merge with a member refitted on all of train
and offsets copied from another run: real run folders as `emotions-train` writes them (no TensorFlow needed)."""

from __future__ import annotations

import json
from pathlib import Path

from convert.card import _adjustment_lines, _data_line, _training_lines
from convert.convert import training_facts
from edge.labels import EMOTIONS

OFFSETS = dict(zip(EMOTIONS, [-0.21, 0.51, 0.24, -0.33, -0.18, -0.10, 0.08], strict=True))


def _brief(accuracy: float, macro_f1: float, disgust: float) -> dict:
    return {"accuracy": accuracy, "macro_f1": macro_f1, "recall": {"disgust": disgust}}


def _run(folder: Path, preset: str, train_images: int, holdout_images: int, epochs: int | None = None,
         **config) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "preset": {"name": preset, "description": f"{preset} net"}, "train_images": train_images,
        "holdout_images": holdout_images, "holdout": 0.1 if holdout_images else 0.0,
        "machine": {"cpus": 2, "tensorflow": "2.21.0"}, **config}))
    if epochs:
        (folder / "state.json").write_text(json.dumps({"epoch": epochs, "best_epoch": epochs - 10 if holdout_images
                                                       else epochs, "train_seconds": epochs * 36}))
    return folder


def _refit_merge(runs: Path) -> Path:
    """The shipped merge's offsets copied into a merge of a held-out member and a member refitted on all of train."""
    _run(runs / "wide", "res48-wide", 25837, 2872, epochs=240)
    _run(runs / "student-full", "student48", 28709, 0, epochs=480)
    shipped = _run(runs / "shipped", "merged", 25837, 2872, members=["../wide", "../student"])
    (shipped / "adjust.json").write_text(json.dumps({
        "mode": "bagged", "objective": "targets", "offsets": OFFSETS, "flip_tta": True, "zoom_views": [1.1],
        "holdout_before": _brief(0.702, 0.678, 0.52), "holdout_after": _brief(0.711, 0.708, 0.73)}))
    merged = _run(runs / "refit-merge", "merged", 28709, 0, members=["../wide", "../student-full"])
    (merged / "adjust.json").write_text(json.dumps({
        "mode": "copied", "offsets_from": "../shipped", "objective": "targets", "offsets": OFFSETS,
        "flip_tta": True, "zoom_views": [1.1], "validation": {}}))
    return merged


def test_a_refit_merge_card_says_what_each_member_fitted_on_and_where_its_offsets_came_from(tmp_path):
    facts = training_facts(_refit_merge(tmp_path) / "adjusted.keras")

    assert _data_line(facts) == ("- Data: FER2013 train split (28709 images; the members below fitted on different "
                                 "shares of it; the validation split below was never used for a choice).")
    wide, student = _training_lines(facts)[:2]
    assert wide.startswith("- Member `wide` (preset `res48-wide`): 240 epochs (best holdout epoch 230), ")
    assert wide.endswith("; fitted on 25837 images, 2872 held out.")
    assert student.startswith("- Member `student-full` (preset `student48`): 480 epochs (last epoch kept, no "
                              "holdout), ")
    assert student.endswith("; fitted on 28709 images, 0 held out.")
    (line,) = _adjustment_lines(facts["adjustment"])
    assert "copied from run `shipped`" in line and "disgust +0.51" in line
    assert line.endswith("fitted there (bagged, objective targets) on its holdout: accuracy 70.2 % → 71.1 %, "
                         "macro-F1 0.678 → 0.708, disgust recall 0.52 → 0.73.")


def test_copied_offsets_whose_source_is_gone_still_make_a_card(tmp_path):
    merged = _refit_merge(tmp_path)
    (tmp_path / "shipped" / "adjust.json").unlink()
    (line,) = _adjustment_lines(training_facts(merged / "adjusted.keras")["adjustment"])
    assert "copied from run `shipped`" in line and "holdout" not in line


def test_a_single_refit_and_a_held_out_merge_keep_their_own_data_lines(tmp_path):
    refit = _run(tmp_path / "refit", "student48", 28709, 0, epochs=480)
    facts = training_facts(refit / "best.keras")
    assert "28709 images, all used for fitting" in _data_line(facts)
    assert "(last epoch kept, no holdout)" in _training_lines(facts)[0]
    _run(tmp_path / "a", "res48", 25837, 2872, epochs=60)
    _run(tmp_path / "b", "student48", 25837, 2872, epochs=480)
    merged = _run(tmp_path / "ab", "merged", 25837, 2872, members=["../a", "../b"])
    facts = training_facts(merged / "best.keras")
    assert _data_line(facts).startswith("- Data: FER2013 train split (25837 images used for fitting, 2872 held out")
    assert not any("held out." in line for line in _training_lines(facts))  # the shares are told once, above


def test_the_recipe_hours_count_the_run_the_offsets_came_from_once(tmp_path):
    merged = _refit_merge(tmp_path)
    _run(tmp_path / "student", "student48", 25837, 2872, epochs=480)  # the shipped merge's own student
    hours = training_facts(merged / "adjusted.keras")["recipe_hours"]
    assert abs(hours - (240 + 480 + 480) * 36 / 3600) < 1e-9  # wide once, though both merges have it


def test_the_card_names_the_files_own_mode_and_the_input_it_takes():
    """Only int8 files take pixel − 128; float16, dynamic and float32 files keep a float32 input tensor (the real
    float16 file is checked in test_convert.py)."""
    from convert.card import accuracy_heading, input_line

    int8 = {"input_size": 48, "quantization": "int8"}
    assert input_line(int8) == ("- Input: 48×48 grayscale, raw pixels 0–255 (the network rescales inside; int8 "
                                "input = pixel − 128).")
    assert accuracy_heading(int8, 7178) == "## Accuracy (this file, int8, on the 7,178 FER2013 validation images)"
    for mode in ("float16", "dynamic", "float32"):
        spec = {"input_size": 48, "quantization": mode}
        assert input_line(spec) == ("- Input: 48×48 grayscale, raw pixels 0–255 as float32 (the network rescales "
                                    "inside).")
        assert accuracy_heading(spec, 700) == f"## Accuracy (this file, {mode}, on the 700 FER2013 validation images)"
