"""Holdout accuracy of runs, alone and averaged in every combination: for choosing teachers without
touching validation.

    python scripts/holdout_ensembles.py runs/res48-wide-s8 runs/res48-views-long-s11 ... [--top 15]
        [--zoom-views 1.1] [--max-members 3] [--shared-errors]

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


def answers(run: Path, images: np.ndarray, cache: Path, zooms: tuple[float, ...] = ()) -> np.ndarray:
    model_file = run / "best.keras"
    views = f"zoom{'-'.join(map(str, zooms))}".encode() if zooms else b""  # flip alone keeps the old cache names
    key = hashlib.sha256(model_file.read_bytes() + images.tobytes() + views).hexdigest()[:16]
    cached = cache / f"{run.name}-{key}.npy"
    if not cached.exists():
        import keras

        from train.evaluate import predict  # what a teacher pass runs, flip-averaged, with the zoomed views added

        cache.mkdir(parents=True, exist_ok=True)
        np.save(cached, predict(keras.models.load_model(model_file, compile=False), images, flip=True, zooms=zooms))
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
    parser.add_argument("--zoom-views", type=float, nargs="*", default=[], metavar="SCALE",
                        help="also average each face zoomed by SCALE and its mirror, as the shipped file's "
                        "four views do (`--zoom-views 1.1`); default: the face and its mirror only")
    parser.add_argument("--shared-errors", action="store_true",
                        help="also print, for each pair of runs, the share of their errors they make on the same "
                        "faces (both wrong / either wrong): how little averaging them can fix")
    parser.add_argument("--max-members", type=int, default=0,
                        help="list only ensembles of at most this many runs (a latency budget; default: all)")
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
    zooms = tuple(args.zoom_views)
    probs = {run.name: answers(run, images, cache, zooms) for run in args.runs}
    views = f"{2 + 2 * len(zooms)} views (the face, zoomed by {', '.join(map(str, zooms))}, and mirrors)" if zooms \
        else "flip-averaged"
    print(f"{len(labels)} holdout images; accuracy and mean negative log-likelihood, {views}")
    for name, p in sorted(probs.items(), key=lambda kv: -score(kv[1], labels)[0]):
        print("{:.2%}  {:.4f}  {}".format(*score(p, labels), name))
    if args.shared_errors:
        wrong = {name: p.argmax(1) != labels for name, p in probs.items()}
        print("pairs: errors on the same faces (both wrong / either wrong), both wrong")
        for a, b in itertools.combinations(wrong, 2):
            both, either = (wrong[a] & wrong[b]).mean(), (wrong[a] | wrong[b]).mean()
            print(f"{both / either:.3f}  {both:.2%}  {a} / {b}")
    largest = min(args.max_members or len(probs), len(probs))
    combos = [c for k in range(2, largest + 1) for c in itertools.combinations(probs, k)]
    scored = sorted(((*score(np.mean([probs[n] for n in c], axis=0), labels), c) for c in combos),
                    key=lambda t: -t[0])
    print(f"best {min(args.top, len(scored))} of {len(scored)} ensembles:")
    for acc, nll, combo in scored[:args.top]:
        print(f"{acc:.2%}  {nll:.4f}  {' + '.join(combo)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
