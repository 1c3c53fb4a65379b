"""scripts/check_refit.py on the committed history of the shipped student half and refits made from it."""

import csv
import json
from pathlib import Path

import pytest
from _scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
SIBLING = ROOT / "runs/student48-views-xxlong-s11"  # the shipped recipe's student half: 480 epochs with a holdout
SHIPPED_REFIT = ROOT / "runs/student48-views-xxlong-full-s11"  # its refit on all of train, in the shipped file
# the shipped file's other half, refitted the same way, and its sibling: 240 epochs with a holdout
WIDE_SIBLING, WIDE_REFIT = ROOT / "runs/res48-wide-views24-xlong-s11", ROOT / "runs/res48-wide-views24-xlong-full-s11"


check = load_script("check_refit")


def _refit(folder: Path, *, epochs: int | None = None, last_accuracy_shift: float = 0.0,
           seed: int | None = None) -> Path:
    """A refit run folder made of the sibling's files: holdout 0, history cut at `epochs`, the last row's
    accuracy shifted by `last_accuracy_shift` (a fraction)."""
    config = json.loads((SIBLING / "config.json").read_text()) | {"holdout": 0.0}
    if seed is not None:
        config["seed"] = seed
    with (SIBLING / "history.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows = rows[:epochs] if epochs else rows
    rows[-1]["accuracy"] = str(float(rows[-1]["accuracy"]) + last_accuracy_shift)
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    with (folder / "history.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.mark.parametrize(("refit", "sibling", "line"), [
    (SHIPPED_REFIT, SIBLING, "epoch 480 training accuracy 85.85 % within 1.5 points of the sibling's 86.73 %"),
    (WIDE_REFIT, WIDE_SIBLING, "epoch 240 training accuracy 84.92 % within 1.5 points of the sibling's 85.01 %"),
])
def test_the_shipped_refits_are_whole(capsys, refit, sibling, line):
    assert check.main([str(refit), "--sibling", str(sibling)]) == 0
    assert line in capsys.readouterr().out


def test_the_refits_are_not_each_others_siblings():
    failures = [text for text, holds in check.conditions(WIDE_REFIT, SIBLING, 1.5) if not holds]
    assert any(text.startswith("same preset and seed") for text in failures)


def test_a_whole_refit_passes(tmp_path, capsys):
    assert check.main([str(_refit(tmp_path / "r", last_accuracy_shift=-0.014)), "--sibling", str(SIBLING)]) == 0
    assert "the run is whole" in capsys.readouterr().out


@pytest.mark.parametrize(("kwargs", "failed"), [
    ({"epochs": 300}, "finished its schedule (epoch 300 of 480)"),
    ({"last_accuracy_shift": -0.016}, "epoch 480 training accuracy"),
    ({"seed": 12}, "same preset and seed"),
])
def test_each_broken_condition_fails_alone(tmp_path, kwargs, failed):
    failures = [text for text, holds in check.conditions(_refit(tmp_path / "r", **kwargs), SIBLING, 1.5)
                if not holds]
    assert len(failures) == 1 and failures[0].startswith(failed)


def test_a_run_with_a_holdout_is_not_a_refit(tmp_path):
    folder = _refit(tmp_path / "r")
    (folder / "config.json").write_text((SIBLING / "config.json").read_text())
    assert check.main([str(folder), "--sibling", str(SIBLING)]) == 1


def test_a_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert check.main([str(tmp_path / "absent"), "--sibling", str(SIBLING)]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read the runs' config.json and history.csv")
