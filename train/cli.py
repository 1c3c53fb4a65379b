"""emotions-train: fit, resume, evaluate, adjust, merge, compare and benchmark training presets."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from edge.argtypes import add_zoom_views, integer

# Quieten TensorFlow's C++ start-up chatter before it is imported anywhere.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

log = logging.getLogger("emotions-train")


def _holdout_fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 (a refit on all of train) up to below 1, "
                                         f"got {value}")
    return value


def default_evaluation_dir(model: Path) -> Path:
    """Where `evaluate` writes without -o: a folder named after the model beside it (runs/R/best.keras →
    runs/R/best.evaluation/), never the run folder itself, whose metrics.json is the run's training record."""
    return model.parent / f"{model.stem}.evaluation"


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="dataset root with train/ and validation/ (default: $EMOTIONS_DATA)")
    p.add_argument("--cache-dir", type=Path, help="where the .npz image cache lives (default ~/.cache/emotions)")


def build_parser() -> argparse.ArgumentParser:
    from train.adjust import MODES, OBJECTIVES
    from train.presets import PRESETS

    parser = argparse.ArgumentParser(
        prog="emotions-train",
        description="Train facial-expression CNNs on the FER2013 folder layout and record every run.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="train a preset (or --resume a run folder)")
    fit.add_argument("--preset", default="res48", help=f"one of: {', '.join(PRESETS)} (default res48)")
    fit.add_argument("--resume", type=Path, metavar="RUN", help="continue a run folder from its last epoch")
    fit.add_argument("--epochs", type=integer(1), help="override the preset's epoch count (with --resume: re-plan "
                     "the schedule to end there)")
    fit.add_argument("--patience", type=integer(1), help="early-stopping patience in epochs (overrides the preset)")
    fit.add_argument("--holdout", type=_holdout_fraction, default=0.1,
                     help="stratified fraction of train kept for early stopping and model choice (default 0.1; 0: a "
                     "refit on all of train); validation is only reported")
    fit.add_argument("--seed", type=int, default=1, help="initialisation, shuffling and augmentation (default 1)")
    fit.add_argument("--holdout-seed", type=int, default=1, help="which images form the holdout (default 1); keep "
                     "it the same for runs that will be compared, ensembled or distilled")
    fit.add_argument("--limit", type=integer(1), help="at most this many training images per class (smoke runs)")
    fit.add_argument("--strategy", choices=["default", "mirrored", "multiworker"], default="default",
                     help="tf.distribute strategy (mirrored uses all GPUs, or two logical CPUs)")
    fit.add_argument("--weights", help="local ImageNet weights file for the seed-9 MobileNetV2 backbone")
    fit.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where run folders go (default runs/)")
    fit.add_argument("--name", help="run folder name (default: timestamp-preset)")
    fit.add_argument("--teachers", nargs="+", type=Path, default=(), metavar="RUN",
                     help="distil: mix these runs' (or .keras files') averaged probabilities into the target "
                     "(weight: the preset's distill_weight); they must share this run's --holdout-seed")
    fit.add_argument("--init-from", type=Path, metavar="RUN",
                     help="start from this run's best.keras (or a .keras file) instead of fresh weights: a second "
                     "schedule on a finished run; it must share this run's --holdout-seed")
    _data_arg(fit)

    ev = sub.add_parser("evaluate", help="metrics of a saved .keras model (or of several averaged: an ensemble) "
                        "on the validation split")
    ev.add_argument("model", type=Path, nargs="+")
    ev.add_argument("-o", "--out", type=Path, help="folder for metrics.json and confusion.png (default: MODEL's "
                    "folder/<model name>.evaluation/; required for an ensemble)")
    ev.add_argument("--no-flip", action="store_true", help="skip the horizontal-flip averaged metrics")
    _data_arg(ev)

    adj = sub.add_parser("adjust", help="fit class-bias offsets on a run's holdout and fold them into "
                         "RUN/adjusted.keras (validation reported once)")
    adj.add_argument("run", type=Path)
    adj.add_argument("--mode", choices=["auto", *MODES], default="auto",
                     help="none: no offsets; prior: b = -tau·log(prior); per-class: one offset per class; bagged: "
                     "per-class averaged over bootstrap resamples; auto: the one that cross-validates best inside the "
                     "holdout (default)")
    adj.add_argument("--objective", choices=list(OBJECTIVES), default="macro_f1",
                     help="what the offsets maximise: macro_f1 (default); balanced (mean recall); targets (macro-F1 "
                     "less each class's recall shortfall under issue 7's floors, 0.60 disgust, 0.55 the others); "
                     "issue (accuracy plus targets, so offsets cannot spend accuracy for macro-F1)")
    adj.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                     help="fit on answers averaged with the mirrored face (default: the preset's flip_tta)")
    add_zoom_views(adj, "also average with the face zoomed by these comma-separated factors, as the model will "
                   "ship (emotions-convert --zoom-views)", default=[])
    adj.add_argument("--without-train-copies", action="store_true",
                     help="fit and score on the holdout faces with no pixel-identical copy in the training part "
                     "(FER2013 repeats faces; the copies flatter their classes), and compare with fitting on all")
    adj.add_argument("--offsets-from", type=Path, metavar="RUN",
                     help="fit nothing: fold RUN's fitted offsets (and its test-time views) into this run, which "
                     "has no holdout of its own (a refit on all of train, --holdout 0)")
    _data_arg(adj)

    mrg = sub.add_parser("merge", help="several runs as one model (mean of their logits) in a new run folder, "
                         "for adjust and emotions-convert; runs with a holdout must share it (--holdout-seed), and "
                         "a merge that includes a --holdout 0 refit has none")
    mrg.add_argument("runs", nargs="+", type=Path, metavar="RUN")
    mrg.add_argument("--name", required=True, help="the merged run's folder name")
    mrg.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where it goes (default runs/)")
    _data_arg(mrg)

    cmp_ = sub.add_parser("compare", help="table of runs (and a comparison plot)")
    cmp_.add_argument("runs", nargs="+", type=Path)
    cmp_.add_argument("--plot", type=Path, help="write the comparison plot here (default: compare.png)")
    cmp_.add_argument("--markdown", action="store_true", help="print a Markdown table")

    bench = sub.add_parser("bench", help="training images/second per preset on this machine")
    bench.add_argument("presets", nargs="*", help="presets to measure (default: all but seed-9)")
    bench.add_argument("--steps", type=integer(1), default=20, help="timed steps per preset (default 20)")

    sub.add_parser("presets", help="list the presets and what they do")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    args = build_parser().parse_args(argv)
    from train.data import DatasetError

    try:
        return _dispatch(args)
    except (DatasetError, ValueError, FileNotFoundError) as err:
        print(f"emotions-train: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        from train.fit import Terminated

        terminated = isinstance(stop, Terminated)
        print(f"emotions-train: {'terminated' if terminated else 'interrupted'}; finished epochs are saved (a new "
              "run with none is removed)", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)


def _dispatch(args) -> int:
    if args.command == "presets":
        from train.presets import PRESETS

        for p in PRESETS.values():
            print(f"{p.name:16} {p.description}")
        return 0
    if args.command == "fit":
        from train.fit import FitOptions, fit
        from train.presets import get_preset

        if args.resume and args.teachers:
            raise ValueError("a run keeps the teachers it started with; --resume takes no --teachers")
        if args.resume and args.init_from:
            raise ValueError("--init-from starts a run; --resume continues one from its own checkpoint")
        if args.resume and args.patience is not None:
            raise ValueError("a run keeps the early-stopping patience it started with; --resume takes no --patience")
        options = FitOptions(
            data=args.data, runs_dir=args.runs_dir, holdout=args.holdout, seed=args.seed,
            holdout_seed=args.holdout_seed, epochs=args.epochs,
            patience=args.patience,
            limit=args.limit, strategy=args.strategy, weights=args.weights, cache_dir=args.cache_dir,
            run_name=args.name, teachers=tuple(args.teachers), init_from=args.init_from,
        )
        fit(get_preset(args.preset), options, resume=args.resume)
        return 0
    if args.command == "evaluate":
        from train.data import resolve_root
        from train.keras_file import check_keras_file, load_keras_file

        if len(args.model) > 1 and not args.out:
            raise ValueError("an ensemble's metrics need a folder of their own: give -o DIR")
        for path in args.model:
            check_keras_file(path)  # before TensorFlow is imported
        root = resolve_root(args.data)
        from train.evaluate import Ensemble, evaluate_model

        models = [load_keras_file(path) for path in args.model]
        model = models[0] if len(models) == 1 else Ensemble(models)
        evaluate_model(model, root, args.out or default_evaluation_dir(args.model[0]), cache_dir=args.cache_dir,
                       flip_tta=not args.no_flip, extra={"model_file": [str(p) for p in args.model]
                                                         if len(args.model) > 1 else str(args.model[0])})
        return 0
    if args.command == "adjust":
        from train.adjust import adjust_run

        if not (args.run / "best.keras").exists():
            raise FileNotFoundError(f"not a run folder with best.keras: {args.run}")
        if args.offsets_from:
            from train.adjust import copy_offsets

            fitting = [flag for flag, given in (
                ("--mode", args.mode != "auto"), ("--objective", args.objective != "macro_f1"),
                ("--flip", args.flip is not None), ("--zoom-views", bool(args.zoom_views)),
                ("--without-train-copies", args.without_train_copies)) if given]
            if fitting:
                raise ValueError(f"--offsets-from copies the offsets and views it names; {', '.join(fitting)} "
                                 "would fit new ones")
            copy_offsets(args.run, args.offsets_from, args.data, args.cache_dir)
            return 0
        adjust_run(args.run, args.data, args.mode, args.objective, args.cache_dir, args.flip,
                   tuple(args.zoom_views), args.without_train_copies)
        return 0
    if args.command == "merge":
        from train.merge import merge_runs

        merge_runs(args.runs, args.runs_dir / args.name, args.data, args.cache_dir)
        return 0
    if args.command == "compare":
        from train.compare import compare

        print(compare(args.runs, args.plot or Path("compare.png"), markdown=args.markdown))
        return 0
    if args.command == "bench":
        from train.bench import bench

        bench(args.presets, args.steps)
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
