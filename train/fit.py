"""Train a preset into a run folder, resumable epoch by epoch.

A run folder holds: config.json, history.csv, state.json (epoch, best holdout loss, wall time),
best.keras (lowest holdout val_loss), last.keras + last.optimizer.npz (every epoch), and after
training metrics.json + PNG plots. `--resume RUN` continues from last.keras at the saved epoch with
the optimizer (and so the LR schedule, a function of its step count) exactly as it was; a run stopped
before its first epoch (say, in a long teacher pass) starts again from epoch 0 with its recorded settings.
The remaining epochs' shuffling and augmentation are drawn from the seed and the epoch they resume at, so a
resumed run is as reproducible as any other but not bit-identical to the same run left uninterrupted.

The .keras files hold the network only. The optimizer's variables (step count, momenta) go to a file
beside last.keras: a .keras file with them is twice the model, and checkpoints are meant to be small
enough to commit when a run spans sessions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import platform
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from train.allocator import allocator_hint, preloaded_allocator
from train.data import (
    Split,
    leaked_mask,
    list_split,
    load_split,
    recorded_holdout,
    resolve_root,
    stratified_holdout,
)
from train.presets import Preset

log = logging.getLogger(__name__)


OPTIMIZER_SUFFIX = ".optimizer.npz"
# schedule "plateau": halve the LR when the holdout loss has not improved for this many epochs
PLATEAU_FACTOR, PLATEAU_PATIENCE, PLATEAU_MIN_LR = 0.5, 5, 1e-5


@dataclass
class FitOptions:
    data: str | None
    runs_dir: Path = Path("runs")
    holdout: float = 0.1
    seed: int = 1  # initialisation, shuffling, augmentation
    # Which train images form the holdout. Runs that will be compared, ensembled or distilled share it, so
    # that no run was trained on another one's holdout.
    holdout_seed: int = 1
    epochs: int | None = None  # overrides the preset
    patience: int | None = None  # overrides the preset's early-stopping patience
    limit: int | None = None  # use only this many training images per class (smoke runs)
    strategy: str = "default"
    weights: str | None = None  # local backbone weights (seed-9)
    cache_dir: Path | None = None
    run_name: str | None = None
    teachers: tuple[Path, ...] = ()  # distil from these runs / .keras files (train/distill.py)
    # Start from this run's (or .keras file's) weights instead of a fresh initialisation: a second schedule on
    # a finished run. It must share this run's holdout, as a teacher must.
    init_from: Path | None = None


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The 'balanced' heuristic: n_samples / (n_classes * count), as scikit-learn computes it."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    return len(labels) / (n_classes * np.maximum(counts, 1))


def _limit_per_class(split: Split, limit: int, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    keep = np.concatenate(
        [rng.permutation(np.flatnonzero(split.labels == c))[:limit] for c in np.unique(split.labels)]
    )
    return split.subset(np.sort(keep))


def make_strategy(name: str):
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in cpus])
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
    raise ValueError(f"unknown strategy {name!r}; choose default, mirrored or multiworker")


def split_logical_cpus(count: int) -> None:
    """Expose `count` logical CPU devices (must run before TensorFlow initialises its devices)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def make_dataset(split: Split, preset: Preset, *, training: bool, seed: int, sample_weights=None, targets=None):
    """Batches of (image, target[, weight]); `targets` (N, classes) replaces the one-hot labels (distillation)."""
    import tensorflow as tf

    from edge.labels import EMOTIONS
    from train.augment import augment_batch, mix_batch

    n_classes = len(EMOTIONS)
    x = split.images[..., None]
    y = np.eye(n_classes, dtype=np.float32)[split.labels] if targets is None else targets.astype(np.float32)
    items = (x, y) if sample_weights is None else (x, y, sample_weights[split.labels].astype(np.float32))
    ds = tf.data.Dataset.from_tensor_slices(items)
    if training:
        ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(preset.batch_size, drop_remainder=training)

    def to_float(*batch):
        return (tf.cast(batch[0], tf.float32), *batch[1:])

    ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if training and preset.augment.enabled:
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda batch, s: (augment_batch(batch[0], s, preset.augment), *batch[1:]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    if training and preset.augment.mixes:
        # after the per-image transforms, so a mixed pair is two augmented faces
        def mix(batch, s):
            images, targets, weights = mix_batch(batch[0], batch[1], s, preset.augment,
                                                 batch[2] if len(batch) > 2 else None)
            return (images, targets) if weights is None else (images, targets, weights)

        seeds = tf.data.Dataset.random(seed=seed + 7919).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(mix, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def learning_rate(preset: Preset, steps_per_epoch: int):
    """The preset's LR: a constant, or linear warmup then cosine to zero at the last epoch."""
    import keras

    if preset.schedule != "cosine":
        return preset.learning_rate
    total = steps_per_epoch * preset.epochs
    warmup = steps_per_epoch * preset.warmup_epochs
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else preset.learning_rate, max(total - warmup, 1), alpha=0.0,
        warmup_target=preset.learning_rate if warmup else None, warmup_steps=warmup,
    )


def build_model(preset: Preset, steps_per_epoch: int, weights: str | None = None):
    import keras

    from train.models import BUILDERS

    args = dict(preset.model_args)
    if preset.model == "mobilenet_v2":
        args["weights"] = weights
        if not weights:
            log.warning("seed-9: no --weights file given, so MobileNetV2 trains from scratch (not frozen)")
    model = BUILDERS[preset.model](input_size=preset.input_size, **args)
    lr = learning_rate(preset, steps_per_epoch)
    kwargs = {"clipnorm": preset.clipnorm} if preset.clipnorm else {}
    optimizer = {
        "adam": lambda: keras.optimizers.Adam(lr, **kwargs),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr, **kwargs),
        "sgd": lambda: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, **kwargs),
    }[preset.optimizer]()
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=preset.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def inference_model(model):
    """The same layers and weights without the compile state, which would save the optimizer too."""
    import keras

    return keras.Model(model.inputs, model.outputs, name=model.name)


def optimizer_file(checkpoint: Path) -> Path:
    """Where the optimizer's variables of CHECKPOINT (a .keras file) are kept: last.keras → last.optimizer.npz."""
    return checkpoint.with_name(checkpoint.name.removesuffix(".keras") + OPTIMIZER_SUFFIX)


def save_checkpoint(model, path: Path, epoch: int | None = None) -> None:
    """The network to PATH (.keras); with an epoch, the optimizer's variables too, to PATH + .optimizer.npz.

    Each file is written beside its target and renamed over it, so an interrupt leaves the old pair or the
    new one. The epoch is stored in both, so a pair from two different epochs is refused on resume."""
    tmp = path.with_name(path.stem + ".tmp.keras")
    inference_model(model).save(tmp)
    if epoch is not None:
        variables = model.optimizer.variables
        arrays = {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
        names = np.array([v.path for v in variables])
        opt_path = optimizer_file(path)
        opt_tmp = opt_path.with_name(opt_path.name + ".tmp")
        with opt_tmp.open("wb") as fh:
            np.savez(fh, epoch=epoch, names=names, **arrays)
        opt_tmp.replace(opt_path)
    tmp.replace(path)


def restore_checkpoint(model, path: Path, epoch: int) -> None:
    """Load PATH's weights and its optimizer file into MODEL, built and compiled by build_model."""
    import keras

    opt_path = optimizer_file(path)
    saved = keras.models.load_model(path, compile=False)
    model.set_weights(saved.get_weights())  # refuses a different architecture by shape
    with np.load(opt_path) as data:
        if int(data["epoch"]) != epoch:
            raise ValueError(f"{opt_path} is from epoch {int(data['epoch'])} but {path.parent}/state.json says "
                             f"{epoch}: the run was stopped while saving; restart it or restore both files")
        arrays = [data[f"v{i:04d}"] for i in range(len(data["names"]))]
    model.optimizer.build(model.trainable_variables)
    variables = model.optimizer.variables
    if len(variables) != len(arrays) or any(tuple(v.shape) != a.shape for v, a in zip(variables, arrays)):
        raise ValueError(f"{opt_path} does not match the {type(model.optimizer).__name__} of this preset "
                         f"({len(arrays)} saved variables, {len(variables)} expected)")
    for variable, array in zip(variables, arrays):
        variable.assign(array)


def machine_info() -> dict:
    import tensorflow as tf

    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "cpus": os.cpu_count(),
        "allocator": preloaded_allocator(),
    }


def _atomic_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, `systemctl stop`, a session's end) taken like Ctrl-C: the run stops after its last
    finished epoch and can be resumed. A background job (`cmd &`) ignores Ctrl-C, so this is how it is stopped."""


# Set by the SIGTERM handler and checked at each epoch's edges: a handler that runs inside a __del__ or a
# garbage-collector callback has its exception printed and swallowed, and the run went on (seen once in CI).
_terminate_requested = threading.Event()


def _raise_terminated(signum, frame) -> None:
    _terminate_requested.set()
    raise Terminated


def raise_if_terminated() -> None:
    """Raise Terminated if a SIGTERM arrived whose exception Python swallowed where it landed."""
    if _terminate_requested.is_set():
        raise Terminated


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated instead of killing the process mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _terminate_requested.clear()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _terminate_requested.clear()


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold a Ctrl-C or SIGTERM that arrives inside the block and raise it at the end.

    An epoch's record is several files (history row, checkpoints, state.json); an interrupt between them left a
    history row for an epoch that state.json did not count, and the resume ran that epoch again."""
    ours = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: _raise_terminated}
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are not ours to change here
        return
    held: list[int] = []
    previous = {}
    for signum, handler in ours.items():
        if signal.getsignal(signum) is handler:  # leave alone what someone else set (or ignored)
            previous[signum] = signal.signal(signum, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if signal.SIGTERM in held:
        raise Terminated
    if held:
        raise KeyboardInterrupt


def trim_history(history: Path, epochs: int) -> int:
    """Drop rows after EPOCHS from HISTORY, and incomplete ones (a run killed between its history row and
    state.json, or while writing the row); returns how many were dropped."""
    if not history.exists():
        return 0
    with history.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return 0
    kept = rows[:1] + [r for r in rows[1:] if len(r) == len(rows[0]) and r[0].isdigit() and int(r[0]) <= epochs]
    if len(kept) < len(rows):
        tmp = history.with_suffix(".tmp")
        with tmp.open("w", newline="") as fh:
            csv.writer(fh).writerows(kept)
        tmp.replace(history)
    return len(rows) - len(kept)


def _fresh_state() -> dict:
    """state.json's content before the first epoch of a run."""
    return {"epoch": 0, "best_val_loss": math.inf, "best_epoch": 0, "wait": 0, "train_seconds": 0.0}


def check_resumable(run_dir: Path) -> None:
    """Refuse, in one line, a run folder that --resume cannot continue, before anything in it is touched."""
    if not (run_dir / "config.json").is_file():
        raise ValueError(f"cannot resume {run_dir}: no config.json there (is it a run folder?)")
    try:
        recorded = json.loads((run_dir / "config.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot resume {run_dir}: its config.json is unreadable ({error})") from None
    if not isinstance(recorded, dict) or "preset" not in recorded:
        raise ValueError(f"cannot resume {run_dir}: its config.json records no preset (is it a run folder?)")
    if not (run_dir / "state.json").is_file():
        return  # stopped before its first epoch (e.g. in the teacher pass): fit() starts it again from epoch 0
    if not (run_dir / "last.keras").is_file():
        raise ValueError(f"cannot resume {run_dir}: last.keras is missing; a run that spans sessions needs its "
                         "last.keras and last.optimizer.npz committed or copied with it")


def _callbacks(run_dir: Path, state: dict, preset: Preset, start_epoch: int):
    import keras

    class RunRecorder(keras.callbacks.Callback):
        """History CSV, best/last checkpoints, state.json, progress line with ETA, early stopping."""

        def on_train_begin(self, logs=None):
            self.epoch_started = time.time()

        def on_epoch_begin(self, epoch, logs=None):
            raise_if_terminated()
            self.epoch_started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            with deferred_interrupt():  # the epoch's files are written all or none
                self._record(epoch, dict(logs or {}))
            raise_if_terminated()

        def _record(self, epoch, logs):
            seconds = time.time() - self.epoch_started
            state["train_seconds"] += seconds
            lr = self.model.optimizer.learning_rate
            logs["lr"] = float(lr.numpy() if hasattr(lr, "numpy") else lr)
            logs["seconds"] = seconds
            history = run_dir / "history.csv"
            fields = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"]
            new = not history.exists()
            with history.open("a", newline="") as fh:
                writer = csv.DictWriter(fh, fields, extrasaction="ignore")
                if new:
                    writer.writeheader()
                writer.writerow({"epoch": epoch + 1, **{k: f"{v:.6g}" for k, v in logs.items()}})
            val_loss = logs.get("val_loss", logs["loss"])
            # With no holdout (a refit on all of train) nothing can choose an epoch: best.keras is the last one.
            improved = "val_loss" not in logs or val_loss < state["best_val_loss"]
            if improved:
                state.update(best_val_loss=float(val_loss), best_epoch=epoch + 1, wait=0)
                save_checkpoint(self.model, run_dir / "best.keras")
            else:
                state["wait"] += 1
            state["epoch"] = epoch + 1
            if plateau is not None:
                state["plateau"] = {"wait": plateau.wait, "best": float(plateau.best)}
            save_checkpoint(self.model, run_dir / "last.keras", epoch + 1)
            _atomic_json(run_dir / "state.json", state)
            done = epoch + 1 - start_epoch
            eta = (preset.epochs - epoch - 1) * (state["train_seconds"] / max(state["epoch"], 1))
            held_out = (f"val_loss {val_loss:.4f}  val_acc {logs.get('val_accuracy', 0):.4f}" if "val_loss" in logs
                        else "no holdout")
            log.info(
                "epoch %d/%d  loss %.4f  acc %.4f  %s  lr %.2e  %.0fs%s  ETA %s",
                epoch + 1, preset.epochs, logs["loss"], logs.get("accuracy", 0), held_out, logs["lr"], seconds,
                "  *best" if improved else "", _hms(eta),
            )
            if done and state["wait"] >= preset.patience:
                log.info("early stop: holdout val_loss has not improved for %d epochs", state["wait"])
                self.model.stop_training = True

    plateau = None
    if preset.schedule == "plateau":
        class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
            """Keras's callback with its counters carried across --resume (the LR itself is an optimizer
            variable, saved with the checkpoint)."""

            def on_train_begin(self, logs=None):
                super().on_train_begin(logs)  # resets the counters
                if "plateau" in state:
                    self.wait, self.best = state["plateau"]["wait"], state["plateau"]["best"]

        plateau = ResumablePlateau("val_loss", factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE,
                                   min_lr=PLATEAU_MIN_LR)
        return [plateau, RunRecorder()]  # the recorder logs and saves the LR after this epoch's change
    return [RunRecorder()]


def _lock_run(run_dir: Path):
    """Refuse a second process on the same run folder (two writers would interleave checkpoints)."""
    import fcntl

    handle = (run_dir / ".lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ValueError(f"{run_dir} is being trained by another process; stop it first") from None
    return handle


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def prepare_data(options: FitOptions, preset: Preset):
    root = resolve_root(options.data)
    train = load_split(root, "train", cache_dir=options.cache_dir)
    if options.limit:
        train = _limit_per_class(train, options.limit, options.seed)
    holdout_mask = stratified_holdout(train.labels, options.holdout, options.holdout_seed)
    return root, train.subset(~holdout_mask), train.subset(holdout_mask)


def _exists_already(run_dir: Path) -> ValueError:
    return ValueError(f"run folder {run_dir} exists already: continue it with --resume {run_dir} or choose another "
                      "--name")


# What a new run's folder holds before anything worth keeping is in it.
UNSTARTED_RUN_FILES = {".lock", "config.json"}


def _unstarted(run_dir: Path) -> bool:
    """Nothing worth keeping in RUN_DIR yet (no finished epoch, no teacher pass's pieces): fit() removes it."""
    return {entry.name for entry in run_dir.iterdir()} <= UNSTARTED_RUN_FILES


def _check_validation_layout(data: str | os.PathLike | None) -> None:
    """The validation split's layout, before anything is written: it is read only after the last epoch."""
    list_split(resolve_root(data), "validation")


def fit(preset: Preset, options: FitOptions, resume: Path | None = None) -> Path:
    """Train (or resume) a run; returns the run folder. A new run that fails or is stopped before it has
    anything worth keeping (a finished epoch, a teacher pass's pieces) leaves no folder behind, so the same
    command can simply be run again once the cause is fixed."""
    created: list[Path] = []
    try:
        return _fit(preset, options, resume, created)
    except BaseException:
        for run_dir in created:
            if _unstarted(run_dir):
                shutil.rmtree(run_dir)
                log.info("removed %s: nothing had been done in it", run_dir)
        raise


def _fit(preset: Preset, options: FitOptions, resume: Path | None, created: list[Path]) -> Path:
    if resume:
        check_resumable(resume)
    if options.strategy == "mirrored":
        split_logical_cpus(2)
    import keras
    import tensorflow as tf

    if resume:
        run_dir = resume
        # first: a refused second process must not touch a running trainer's files (history, config)
        lock = _lock_run(run_dir)  # noqa: F841 - held until the process exits
        config = json.loads((run_dir / "config.json").read_text())
        from train.presets import Preset as _P

        preset = _P.from_dict(config["preset"])
        options.seed, options.limit = config["seed"], config.get("limit")
        options.holdout, options.holdout_seed = recorded_holdout(config)
        options.data = options.data or config["data"]
        _check_validation_layout(options.data)
        # recorded relative to the run folder, so a clone or another working directory finds them
        options.teachers = tuple(run_dir / t for t in config.get("teachers", []))
        teachers = _checked_teachers(options)
        continuing = (run_dir / "state.json").exists()  # else stopped before its first epoch
        init_file = None
        if not continuing:
            # Same recorded settings from epoch 0; the finished pieces of a teacher pass are reused.
            log.info("no epoch of %s finished yet: starting it again from epoch 0 with its recorded settings",
                     run_dir)
            state = _fresh_state()
            if config.get("init_from"):
                init_file = run_dir / config["init_from"]
                if not init_file.is_file() or _file_fingerprint(init_file) != config.get("init_fingerprint"):
                    raise ValueError(f"the --init-from file of {run_dir} ({init_file}) is missing or not the file "
                                     "this run started from")
        else:
            state = json.loads((run_dir / "state.json").read_text())
        if dropped := trim_history(run_dir / "history.csv", state["epoch"]):
            log.info("dropped %d history row(s) after epoch %d, the last one state.json records", dropped,
                     state["epoch"])
        replanned = bool(options.epochs and options.epochs != preset.epochs)
        if replanned:
            # A deliberate change of plan (e.g. the session is shorter than hoped): the schedule is
            # rebuilt below for the new length, and the change is recorded in config.json once the data
            # has loaded, so a resume that fails changes nothing.
            from dataclasses import replace

            if options.epochs < state["epoch"]:
                raise ValueError(f"--epochs {options.epochs}: {run_dir} has finished {state['epoch']} epochs "
                                 "already; give at least that many")
            config.setdefault("schedule_changes", []).append(
                {"at_epoch": state["epoch"], "from_epochs": preset.epochs, "to_epochs": options.epochs}
            )
            preset = replace(preset, epochs=options.epochs)
            config["preset"] = preset.to_dict()
    else:
        from dataclasses import replace

        if options.epochs:
            preset = replace(preset, epochs=options.epochs)
        if options.patience is not None:
            preset = replace(preset, patience=options.patience)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        run_dir = options.runs_dir / (options.run_name or f"{stamp}-{preset.name}")
        if run_dir.exists():
            raise _exists_already(run_dir)
        # before the folder exists: a missing dataset or a refused teacher leaves nothing behind (an error the
        # training split's loading finds later takes the still unstarted folder with it: see fit())
        _check_validation_layout(options.data)
        if options.holdout <= 0 and preset.schedule == "plateau":
            raise ValueError(f"preset {preset.name} lowers its learning rate on the holdout loss: a refit with "
                             "--holdout 0 needs a fixed schedule (cosine)")
        teachers = _checked_teachers(options)
        init_file = _checked_init(options)
        if preset.teacher_views and not teachers:
            raise ValueError(f"preset {preset.name} trains on views labelled by teachers: give --teachers RUN …")
        try:
            run_dir.mkdir(parents=True)
        except FileExistsError:  # made by another process since the check above
            raise _exists_already(run_dir) from None
        created.append(run_dir)
        lock = _lock_run(run_dir)  # noqa: F841 - held until the process exits
        state = _fresh_state()
        continuing = False
    keras.utils.set_random_seed(options.seed)
    root, train, holdout = prepare_data(options, preset)
    n_classes = int(train.labels.max()) + 1
    weights = balanced_class_weights(train.labels, 7) if preset.class_weight else None
    teacher_fingerprint = ""
    if teachers:
        from train.distill import fingerprint

        teacher_fingerprint = fingerprint(teachers, train.images)
        if resume and teacher_fingerprint != config.get("teacher_fingerprint"):
            raise ValueError(f"the teachers of {run_dir} ({', '.join(map(str, teachers))}) are not the files this "
                             "run started with; distilling from changed teachers mid-run is not the recipe recorded")
    if resume and replanned:
        _atomic_json(run_dir / "config.json", config)
    if not resume:
        _atomic_json(
            run_dir / "config.json",
            {
                "preset": preset.to_dict(),
                "data": str(root),
                "holdout": options.holdout,
                "seed": options.seed,
                "holdout_seed": options.holdout_seed,
                "limit": options.limit,
                "strategy": options.strategy,
                "train_images": len(train),
                "holdout_images": len(holdout),
                "class_weights": None if weights is None else weights.round(4).tolist(),
                "teachers": [os.path.relpath(t, run_dir) for t in teachers],
                "teacher_fingerprint": teacher_fingerprint,
                "init_from": os.path.relpath(init_file, run_dir) if init_file else None,
                "init_fingerprint": _file_fingerprint(init_file) if init_file else None,
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine_info(),
            },
        )
    log.info(
        "run %s: preset %s, %d train / %d holdout images, %d classes, class weights %s",
        run_dir, preset.name, len(train), len(holdout), n_classes, "balanced" if weights is not None else "off",
    )
    if len(train) < preset.batch_size:
        raise ValueError(f"only {len(train)} training images, fewer than one batch of {preset.batch_size}")
    if hint := allocator_hint():
        log.info(hint)
    strategy = make_strategy(options.strategy)
    log.info("strategy %s with %d replica(s)", options.strategy, strategy.num_replicas_in_sync)
    steps = len(train) // preset.batch_size
    with strategy.scope():
        if continuing and optimizer_file(run_dir / "last.keras").exists():
            model = build_model(preset, steps)  # the schedule is built for the preset's (re-planned) length
            restore_checkpoint(model, run_dir / "last.keras", state["epoch"])
            log.info("resuming at epoch %d (optimizer step %d)", state["epoch"], int(model.optimizer.iterations))
        elif continuing:  # a run from before the split checkpoints: last.keras holds the optimizer
            model = keras.models.load_model(run_dir / "last.keras")
            log.info("resuming at epoch %d (optimizer step %d)", state["epoch"], int(model.optimizer.iterations))
            if config.get("schedule_changes") and preset.schedule == "cosine":
                model.optimizer.learning_rate = learning_rate(preset, steps)
                log.info("cosine schedule now ends at epoch %d", preset.epochs)
        else:
            model = build_model(preset, steps, options.weights)
            if init_file:
                warm_start(model, init_file)
                log.info("initialised from %s", init_file)
    extra_callbacks = []
    if teachers and preset.teacher_views:
        train_ds, follow = _view_dataset(run_dir, teachers, train, preset, options.seed, weights, state["epoch"])
        extra_callbacks.append(follow)
    else:
        targets = None
        if teachers:
            from train.distill import mixed_targets, teacher_targets

            probs = teacher_targets(run_dir, teachers, train.images, train.labels, teacher_fingerprint)
            targets = mixed_targets(train.labels, probs, preset.distill_weight)
            log.info("distilling from %d teachers, weight %.2f", len(teachers), preset.distill_weight)
        train_ds = make_dataset(train, preset, training=True, seed=options.seed + state["epoch"],
                                sample_weights=weights, targets=targets)
    holdout_ds = make_dataset(holdout, preset, training=False, seed=options.seed) if len(holdout) else None
    if state["epoch"] >= preset.epochs:
        log.info("all %d epochs done already", preset.epochs)
    else:
        try:
            with stop_on_sigterm():
                model.fit(
                    train_ds,
                    validation_data=holdout_ds,
                    epochs=preset.epochs,
                    initial_epoch=state["epoch"],
                    callbacks=[*extra_callbacks, *_callbacks(run_dir, state, preset, state["epoch"])],
                    shuffle=False,  # the datasets shuffle themselves, reproducibly
                    verbose=0,
                )
        except KeyboardInterrupt as stop:
            how = "terminated" if isinstance(stop, Terminated) else "interrupted"
            if state["epoch"] or not _unstarted(run_dir):
                log.warning("%s after epoch %d; continue with: emotions-train fit --resume %s", how, state["epoch"],
                            run_dir)
            else:  # fit() removes the folder: there is nothing to resume
                log.warning("%s before the first epoch ended; run the same command again to start", how)
            raise
    del tf  # imported for side effects of the strategy only
    best = run_dir / "best.keras"
    final = keras.models.load_model(best if best.exists() else run_dir / "last.keras")
    from train.evaluate import evaluate_model

    report = evaluate_model(final, root, run_dir, cache_dir=options.cache_dir, flip_tta=preset.flip_tta,
                            extra={"preset": preset.name, "epochs": state["epoch"], "best_epoch": state["best_epoch"],
                                   "train_hours": state["train_seconds"] / 3600})
    from train.plots import plot_history

    plot_history(run_dir / "history.csv", run_dir / "curves.png")
    from train.metrics import headline

    log.info("done %s: %d epochs in %s; %s", run_dir, state["epoch"], _hms(state["train_seconds"]),
             headline(report["plain"]))
    return run_dir


def _view_dataset(run_dir: Path, teachers: list[Path], train: Split, preset: Preset, seed: int,
                  class_weights: np.ndarray | None, epoch: int):
    """The training batches of consistent distillation (train/views.py) from `epoch` on, and the callback
    that moves them from epoch to epoch."""
    from train.distill import fingerprint, mixed_targets, teacher_targets
    from train.views import VIEWS_FILE, ViewSampler, augmented_views, view_dataset

    started = time.time()
    views = augmented_views(train.images, preset.augment, preset.teacher_views, seed)
    log.info("made %d augmented views of each training image in %.0f s", preset.teacher_views, time.time() - started)
    probs = teacher_targets(run_dir, teachers, views, train.labels, fingerprint(teachers, views), VIEWS_FILE)
    targets = mixed_targets(train.labels, probs, preset.distill_weight)
    log.info("distilling from %d teachers on %d views per image, weight %.2f", len(teachers), preset.teacher_views,
             preset.distill_weight)
    weights = None if class_weights is None else class_weights[train.labels]
    return view_dataset(ViewSampler(views, targets, preset.batch_size, seed, weights), epoch)


def _checked_teachers(options: FitOptions) -> list[Path]:
    """The teacher model files, each checked to share this run's holdout (see train/distill.py)."""
    from train.distill import check_teacher_holdout, resolve_teacher

    teachers = [resolve_teacher(t) for t in options.teachers]
    for teacher in teachers:
        check_teacher_holdout(teacher, options.holdout, options.holdout_seed)
    if teachers and options.limit:
        raise ValueError("--limit and --teachers together: a teacher trained on all images has seen the "
                         "holdout of a --limit run")
    return teachers


def _checked_init(options: FitOptions) -> Path | None:
    """The model file to start from, checked to share this run's holdout (a run trained on it would leak)."""
    if options.init_from is None:
        return None
    from train.distill import check_teacher_holdout, resolve_teacher

    init_file = resolve_teacher(options.init_from, role="--init-from")
    check_teacher_holdout(init_file, options.holdout, options.holdout_seed, role="--init-from")
    return init_file


def _file_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def warm_start(model, init_file: Path) -> None:
    """Copy every weight of `init_file`'s net into `model` (the optimizer starts fresh); nets that differ
    in any layer's shape are refused in one line rather than half copied."""
    import keras

    source = keras.models.load_model(init_file, compile=False)
    theirs, ours = source.get_weights(), model.get_weights()
    if len(theirs) != len(ours) or any(a.shape != b.shape for a, b in zip(theirs, ours, strict=False)):
        raise ValueError(f"--init-from {init_file}: its net is not this preset's net "
                         f"({len(theirs)} weight arrays against {len(ours)}, or their shapes differ)")
    model.set_weights(theirs)


def validation_arrays(root: Path, cache_dir: Path | None = None, train: Split | None = None):
    """Validation split plus the PrivateTest and leaked-duplicate masks (`train`: the train split, if the
    caller has it loaded already)."""
    if train is None:
        train = load_split(root, "train", cache_dir=cache_dir)
    val = load_split(root, "validation", cache_dir=cache_dir)
    return val, val.private_test, leaked_mask(train.images, val.images)
