#!/usr/bin/env bash
# Reproduce the shipped model from the dataset, in one command: the four teachers, the two halves distilled
# from them on teacher-labelled views, their merge and its class offsets, both halves refitted on all of train,
# their merge (the offsets copied) and the int8 conversion (~36 h of training as recorded, on machines of
# uneven speed, plus ~1.9 h of teacher passes on a 2-core CPU).
# Run it again after an interruption: finished steps are skipped, an unfinished run is resumed from its
# last epoch. Usage: scripts/reproduce_model.sh [RUNS_DIR (default runs-repro)] [OUT.tflite]
# The dataset comes from $EMOTIONS_DATA. The shipped file is only replaced if you name it as OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-runs-repro}
out=${2:-$runs/emotion.tflite}
: "${EMOTIONS_DATA:?set EMOTIONS_DATA to the FER2013 folder (with train/ and validation/)}"
scripts/bootstrap.sh train
bin=${EMOTIONS_VENV:-.venv}/bin
# jemalloc, where installed (Debian: libjemalloc2), made epochs ~30 % shorter here (README, Training).
eval "$("$bin/python" -m train.allocator)"

once() {  # once FILE COMMAND…: run COMMAND unless it has made FILE already
  [[ -f $1 ]] || "${@:2}"
}

fit() {  # fit NAME ARGS…: start, resume or skip one training run
  local name=$1
  shift
  if [[ -f $runs/$name/metrics.json ]]; then
    echo "== $name: done already" >&2
  elif [[ -f $runs/$name/config.json ]]; then
    "$bin/emotions-train" fit --resume "$runs/$name"
  else
    "$bin/emotions-train" fit --runs-dir "$runs" --name "$name" "$@"
  fi
}

# The recorded res48-s1-e66 re-planned its cosine schedule 40 → 36 → 42 → 66 epochs mid-run; one
# 66-epoch plan is the nearest single command.
fit res48-s1-e66 --preset res48 --seed 1 --holdout-seed 1 --epochs 66
fit res48-s2 --preset res48 --seed 2 --holdout-seed 1 --epochs 60
fit res48-mix-s5 --preset res48-mix --seed 5 --holdout-seed 1
fit res48-wide-s8 --preset res48-wide --seed 8 --holdout-seed 1
teachers=("$runs/res48-s1-e66" "$runs/res48-s2" "$runs/res48-mix-s5" "$runs/res48-wide-s8")
# The student labels its 12 views once (~30 min of teacher passes). res48-wide-views24-xlong-s11 has the same seed
# and augmentation, so its first 12 views are the student's: their answers are reused (same runs folder) and only
# its 12 new views are labelled (~25 min).
fit student48-views-xxlong-s11 --preset student48-views-xxlong --seed 11 --holdout-seed 1 --teachers "${teachers[@]}"
fit res48-wide-views24-xlong-s11 --preset res48-wide-views24-xlong --seed 11 --holdout-seed 1 \
  --teachers "${teachers[@]}"
merged=merged-rwv24x11-student48-views-xxlong-s11
once "$runs/$merged/best.keras" "$bin/emotions-train" merge "$runs/res48-wide-views24-xlong-s11" \
  "$runs/student48-views-xxlong-s11" --runs-dir "$runs" --name "$merged"
once "$runs/$merged/adjusted.keras" "$bin/emotions-train" adjust "$runs/$merged" --flip --zoom-views 1.1 \
  --objective targets
# The recipe above, chosen on the holdout, refitted on all of train (--holdout 0: the last epoch of the fixed
# schedule, nothing chosen): both halves are refitted with their recipes' presets and seeds, and their merge
# takes the offsets fitted above, as it has no holdout to fit its own on (docs/experiments.md). The wide refit
# reuses the student refit's answers for its first 12 views, as the siblings above do.
fit student48-views-xxlong-full-s11 --preset student48-views-xxlong --seed 11 --holdout 0 --teachers "${teachers[@]}"
fit res48-wide-views24-xlong-full-s11 --preset res48-wide-views24-xlong --seed 11 --holdout 0 \
  --teachers "${teachers[@]}"
# The rule's broken-run check: a refit whose training went wrong stops the script here (exit 1).
"$bin/python" scripts/check_refit.py "$runs/student48-views-xxlong-full-s11" --sibling "$runs/student48-views-xxlong-s11"
"$bin/python" scripts/check_refit.py "$runs/res48-wide-views24-xlong-full-s11" \
  --sibling "$runs/res48-wide-views24-xlong-s11"
refit=merged-rwv24x11-full-student48-views-xxlong-full-s11
once "$runs/$refit/best.keras" "$bin/emotions-train" merge "$runs/res48-wide-views24-xlong-full-s11" \
  "$runs/student48-views-xxlong-full-s11" --runs-dir "$runs" --name "$refit"
once "$runs/$refit/adjusted.keras" "$bin/emotions-train" adjust "$runs/$refit" --offsets-from "$runs/$merged"
"$bin/emotions-convert" "$runs/$refit/adjusted.keras" -o "$out" --flip-average --zoom-views 1.1
