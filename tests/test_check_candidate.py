"""scripts/check_candidate.py on the committed adjust.json files of two real merges."""

from pathlib import Path

import pytest
from _scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "runs/merged-rwvl11-student48-views-xxlong-s11"  # shipped in sessions 19–25
CANDIDATE = ROOT / "runs/merged-rwvx11-student48-views24-xxlong-s11"  # session 22: 70.03 % against 70.00 %


check = load_script("check_candidate")


@pytest.mark.parametrize(("margin", "status"), [(0.3, 1), (0.0, 0)])
def test_accuracy_margin_decides(margin, status, capsys):
    assert check.main([str(CANDIDATE), "--baseline", str(BASELINE), "--margin", str(margin)]) == status
    out = capsys.readouterr().out
    assert ("FAIL  accuracy 70.03 %" in out) == (status == 1)


def test_a_recall_drop_fails_even_with_higher_accuracy():
    baseline = check.out_of_fold(BASELINE)
    worse = baseline | {"accuracy": baseline["accuracy"] + 0.01,
                        "recall": baseline["recall"] | {"fear": baseline["recall"]["fear"] - 0.031}}
    failed = [text for text, holds in check.conditions(worse, baseline, 0.2) if not holds]
    assert len(failed) == 1 and failed[0].startswith("fear recall")


def test_missing_adjust_is_a_one_line_error(tmp_path, capsys):
    assert check.main([str(tmp_path), "--baseline", str(BASELINE)]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read the out-of-fold results")


def test_a_refit_with_copied_offsets_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "adjust.json").write_text('{"mode": "copied", "offsets_from": "../merged-x", "offsets": {}}')
    assert check.main([str(tmp_path), "--baseline", str(BASELINE)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read the out-of-fold results") and "no out-of-fold results" in err
    assert err.count("\n") == 1
