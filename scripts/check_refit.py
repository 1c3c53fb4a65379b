"""The broken-run check of the refit ship rule in docs/experiments.md ("The shipped recipe refitted on all of
train"): a run refitted with `--holdout 0` ships only if it finished its preset's whole schedule and its
last-epoch training accuracy is within `--tolerance` points of its sibling's at the same epoch (the sibling is
the same preset and seed trained with a holdout). It reads each run's config.json and history.csv and no
held-out face, so it chooses nothing; it only catches a run that diverged or was cut short.

    python scripts/check_refit.py runs/student48-views-xxlong-full-s11 --sibling runs/student48-views-xxlong-s11

Exit status 0 when every condition holds, 1 when one fails, 2 when a file is missing or unreadable.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from check_candidate import print_checks  # scripts/ is on sys.path when a script in it runs

DEFAULT_TOLERANCE_POINTS = 1.5


def training_accuracy(run: Path) -> dict[int, float]:
    """Training accuracy (on the run's augmented views) by epoch, from history.csv."""
    with (run / "history.csv").open(newline="") as handle:
        return {int(row["epoch"]): float(row["accuracy"]) for row in csv.DictReader(handle)}


def conditions(refit: Path, sibling: Path, tolerance_points: float) -> list[tuple[str, bool]]:
    """Each condition as (description, holds)."""
    config = json.loads((refit / "config.json").read_text())
    sibling_config = json.loads((sibling / "config.json").read_text())
    planned = int(config["preset"]["epochs"])
    refit_accuracy, sibling_accuracy = training_accuracy(refit), training_accuracy(sibling)
    last = max(refit_accuracy, default=0)
    checks = [
        (f"no holdout (holdout {config.get('holdout')})", float(config.get("holdout", -1)) == 0.0),
        (f"same preset and seed as the sibling ({config['preset']['name']} seed {config.get('seed')}; sibling "
         f"{sibling_config['preset']['name']} seed {sibling_config.get('seed')})",
         (config["preset"]["name"], config.get("seed")) == (sibling_config["preset"]["name"],
                                                            sibling_config.get("seed"))),
        (f"finished its schedule (epoch {last} of {planned})", last == planned),
    ]
    if last in sibling_accuracy and last in refit_accuracy:
        gap = 100 * (refit_accuracy[last] - sibling_accuracy[last])
        checks.append((f"epoch {last} training accuracy {100 * refit_accuracy[last]:.2f} % within "
                       f"{tolerance_points} points of the sibling's {100 * sibling_accuracy[last]:.2f} % "
                       f"({gap:+.2f})", abs(gap) <= tolerance_points))
    else:
        checks.append((f"the sibling has no epoch {last} to compare with", False))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("refit", type=Path, help="run folder trained with --holdout 0")
    parser.add_argument("--sibling", type=Path, required=True,
                        help="run folder of the same preset and seed trained with a holdout")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_POINTS,
                        help=f"allowed training-accuracy gap in points (default {DEFAULT_TOLERANCE_POINTS})")
    args = parser.parse_args(argv)
    try:
        checks = conditions(args.refit, args.sibling, args.tolerance)
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as err:
        print(f"error: cannot read the runs' config.json and history.csv: {err}", file=sys.stderr)
        return 2
    print(f"{args.refit} against its sibling {args.sibling}:")
    return print_checks(checks, "the run is whole")


if __name__ == "__main__":
    sys.exit(main())
