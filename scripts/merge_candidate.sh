#!/usr/bin/env bash
# Step 2 of the ship rules in docs/experiments.md, for one set of members: merge them, fit the class offsets
# under the shipped four test-time views twice (objective `targets`, then a second merge folder with
# `issue`), and check each against the shipped merge's out-of-fold numbers. Validation is reported once by
# each adjust and is not compared. Finished steps are skipped, so a rerun only does what is missing.
#   scripts/merge_candidate.sh NAME BASELINE_RUN MEMBER_RUN…   (runs folder: runs/, from the repository root)
# Exit status: 0 when at least one of the two candidates passes check_candidate, 1 when neither does.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 4)); then
  echo "usage: $0 NAME BASELINE_RUN MEMBER_RUN MEMBER_RUN…" >&2
  exit 2
fi
name=$1
baseline=$2
shift 2
bin=${EMOTIONS_VENV:-.venv}/bin
passed=1
for objective in targets issue; do
  merged=$name
  [[ $objective == issue ]] && merged=$name-issue
  if [[ ! -f runs/$merged/best.keras ]]; then
    "$bin/emotions-train" merge "$@" --name "$merged"
  fi
  if [[ ! -f runs/$merged/adjusted.keras ]]; then
    "$bin/emotions-train" adjust "runs/$merged" --flip --zoom-views 1.1 --objective "$objective"
  fi
  if "$bin/python" scripts/check_candidate.py "runs/$merged" --baseline "$baseline" --margin 0.3; then
    passed=0
  fi
done
exit $passed
