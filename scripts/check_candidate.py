"""Check a merged candidate against the shipped model's out-of-fold numbers, as the ship rules in
docs/experiments.md state them: accuracy at least `--margin` points higher, macro-F1 no more than 0.005 lower,
no class's recall more than 0.03 lower. It reads only the holdout's out-of-fold results in each run's
adjust.json (written by `emotions-train adjust`); validation is never compared.

    python scripts/check_candidate.py runs/<merge> --baseline runs/<shipped merge> --margin 0.2

Exit status 0 when every condition holds, 1 when one fails, 2 when a file is missing or unreadable. The int8
and latency conditions are checked on the converted file (`emotions-convert`, `emotions-convert bench`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MACRO_F1_SLACK = 0.005
RECALL_SLACK = 0.03


def out_of_fold(run: Path) -> dict:
    """The cross-validated holdout result of the offsets mode the run's adjust chose."""
    adjust = json.loads((run / "adjust.json").read_text())
    if adjust.get("mode") == "copied":
        raise ValueError(f"{run} copied its offsets from {adjust.get('offsets_from')} (a refit on all of train): "
                         "it has no out-of-fold results; its own ship rule is in docs/experiments.md")
    return adjust["holdout_cross_validated"][adjust["mode"]] | {"mode": adjust["mode"]}


def conditions(candidate: dict, baseline: dict, margin_points: float) -> list[tuple[str, bool]]:
    """Each ship condition as (description, holds)."""
    checks = [
        (f"accuracy {100 * candidate['accuracy']:.2f} % ≥ {100 * baseline['accuracy'] + margin_points:.2f} %",
         candidate["accuracy"] >= baseline["accuracy"] + margin_points / 100),
        (f"macro-F1 {candidate['macro_f1']:.3f} ≥ {baseline['macro_f1'] - MACRO_F1_SLACK:.3f}",
         candidate["macro_f1"] >= baseline["macro_f1"] - MACRO_F1_SLACK),
    ]
    for name, recall in baseline["recall"].items():
        checks.append((f"{name} recall {candidate['recall'][name]:.3f} ≥ {recall - RECALL_SLACK:.3f}",
                       candidate["recall"][name] >= recall - RECALL_SLACK))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("candidate", type=Path, help="run folder of the merged candidate (holds adjust.json)")
    parser.add_argument("--baseline", type=Path, required=True, help="run folder of the shipped merge")
    parser.add_argument("--margin", type=float, default=0.2, help="accuracy margin in points (default 0.2)")
    args = parser.parse_args(argv)
    try:
        candidate, baseline = out_of_fold(args.candidate), out_of_fold(args.baseline)
    except (OSError, KeyError, ValueError) as err:
        print(f"error: cannot read the out-of-fold results: {err}", file=sys.stderr)
        return 2
    print(f"{args.candidate} (mode {candidate['mode']}) against {args.baseline} (mode {baseline['mode']}), "
          f"margin +{args.margin} points:")
    return print_checks(conditions(candidate, baseline, args.margin), "all out-of-fold conditions hold")


def print_checks(checks: list[tuple[str, bool]], verdict_if_passed: str) -> int:
    """Print each condition as pass or FAIL and the verdict; the exit status: 0 if all hold, else 1."""
    for text, holds in checks:
        print(f"  {'pass' if holds else 'FAIL'}  {text}")
    passed = all(holds for _, holds in checks)
    print(verdict_if_passed if passed else "does not ship")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
