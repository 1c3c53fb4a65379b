"""Holdout accuracy of runs, alone and averaged in every combination: for choosing teachers without
touching validation.

    python scripts/holdout_ensembles.py runs/res48-wide-s8 runs/res48-views-long-s11 ... [--top 15]

Each run's best.keras answers the run's holdout (rebuilt from its config.json; all runs must share it, as for a merge),
averaged with its mirror view; ensembles average those probabilities. Answers are cached per model file in
~/.cache/emotions/holdout/, so adding a candidate costs one pass of that model only.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train.data import default_cache_dir, load_split, recorded_holdout, resolve_root, stratified_holdout  # noqa: E402
from train.merge import shared_holdout  # noqa: E402


def answers(run: Path, images: np.ndarray, cache: Path) -> np.ndarray:
    model_file = run / "best.keras"
    key = hashlib.sha256(model_file.read_bytes() + images.tobytes()).hexdigest()[:16]
    cached = cache / f"{run.name}-{key}.npy"
    if not cached.exists():
        from train.distill import ensemble_probabilities  # the teachers' own answers: flip-averaged

        cache.mkdir(parents=True, exist_ok=True)
        np.save(cached, ensemble_probabilities([model_file], images))
    return np.load(cached)


def score(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean negative log-likelihood of the true class."""
    nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1)).mean()
    return float((probs.argmax(1) == labels).mean()), float(nll)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=15, help="ensembles to list (default 15)")
    parser.add_argument("--data", help="dataset root (default $EMOTIONS_DATA)")
    args = parser.parse_args()
    try:
        configs, _ = shared_holdout(args.runs)  # the merge's check: one clean holdout for all of them
    except (FileNotFoundError, ValueError) as err:
        print(f"holdout_ensembles: {err}", file=sys.stderr)
        return 2
    train = load_split(resolve_root(args.data), "train")
    mask = stratified_holdout(train.labels, *recorded_holdout(configs[0]))
    images, labels = train.images[mask], train.labels[mask]
    cache = default_cache_dir() / "holdout"
    probs = {run.name: answers(run, images, cache) for run in args.runs}
    print(f"{len(labels)} holdout images; accuracy and mean negative log-likelihood, flip-averaged")
    for name, p in sorted(probs.items(), key=lambda kv: -score(kv[1], labels)[0]):
        print("{:.2%}  {:.4f}  {}".format(*score(p, labels), name))
    combos = [c for k in range(2, len(probs) + 1) for c in itertools.combinations(probs, k)]
    scored = sorted(((*score(np.mean([probs[n] for n in c], axis=0), labels), c) for c in combos),
                    key=lambda t: -t[0])
    print(f"best {min(args.top, len(scored))} of {len(scored)} ensembles:")
    for acc, nll, combo in scored[:args.top]:
        print(f"{acc:.2%}  {nll:.4f}  {' + '.join(combo)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
