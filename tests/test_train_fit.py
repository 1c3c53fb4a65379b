"""Training end to end on a few hundred real faces: loss goes down, Ctrl-C + resume, mirrored, compare."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _data import REPO, requires_data, small_copy

pytest.importorskip("tensorflow", reason="training tests need TensorFlow (the train extra)")

pytestmark = requires_data


def cli(*args: str, cwd: Path, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "train.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def history(run: Path) -> list[dict]:
    with (run / "history.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return small_copy(tmp_path_factory.mktemp("fer"), per_class=60)


@pytest.fixture(scope="module")
def tiny_run(data, tmp_path_factory):
    """A seeded 4-epoch fit of the tiny preset, shared by the tests below."""
    work = tmp_path_factory.mktemp("work")
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "4", "--name", "tiny-a",
               "--runs-dir", "runs", "--cache-dir", str(work / "cache"), cwd=work)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    return work / "runs" / "tiny-a", out


def test_class_weights_equal_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    from train.fit import balanced_class_weights

    counts = [3995, 436, 4097, 7215, 4965, 4830, 3171]  # the real FER2013 train counts
    labels = np.repeat(np.arange(7), counts)
    expected = compute_class_weight("balanced", classes=np.arange(7), y=labels)
    np.testing.assert_allclose(balanced_class_weights(labels, 7), expected, rtol=1e-12)
    assert balanced_class_weights(labels, 7)[1] > 9  # disgust weighs most


def test_smoke_fit_records_a_run_and_loss_goes_down(tiny_run):
    run, log = tiny_run
    rows = history(run)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    for name in ("config.json", "state.json", "metrics.json", "best.keras", "last.keras", "curves.png",
                 "confusion.png"):
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["plain"]["validation"]["n"] == 7 * 60
    assert metrics["plain"]["private_test"]["n"] + metrics["plain"]["public_test"]["n"] == 7 * 60
    assert "epoch 4/4" in log and "ETA" in log and "done" in log.splitlines()[-1]
    config = json.loads((run / "config.json").read_text())
    assert config["preset"]["name"] == "tiny" and config["holdout_images"] > 0
    from train.allocator import preloaded_allocator

    assert config["machine"]["allocator"] == preloaded_allocator(os.environ)


def test_interrupt_keeps_checkpoint_and_resume_continues(data, tmp_path):
    # Far more epochs than it will run: on a loaded machine the rival below takes a while to start,
    # and the run must still be going when the interrupt lands. The resume then ends two epochs later.
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "1000", "--patience", "9999", "--name",
               "r", "--cache-dir", str(tmp_path / "cache"), "--runs-dir", "runs", cwd=tmp_path)
    state_file = tmp_path / "runs" / "r" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline and not (state_file.exists() and json.loads(state_file.read_text())["epoch"] >= 1):
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0]
    # a second trainer on the same run folder is refused while the first runs
    rival = cli("fit", "--resume", "runs/r", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    rival_out, _ = rival.communicate(timeout=300)
    assert proc.poll() is None
    assert rival.returncode == 2 and "being trained by another process" in rival_out, rival_out
    # SIGTERM, as `kill`, systemd or a session's end sends it (a background job ignores Ctrl-C): taken like
    # Ctrl-C, the run stops after its last finished epoch; the unit test below covers Ctrl-C itself
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("SIGTERM did not stop the run in 300 s; its output ends:\n" + proc.communicate()[0][-3000:])
    stopped_at = json.loads(state_file.read_text())["epoch"]
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert "terminated after epoch" in out and "--resume" in out and 1 <= stopped_at < 1000
    end = stopped_at + 2
    # a hard kill (no Ctrl-C to defer) between the history row and state.json leaves a row state.json does
    # not count: the resume drops it rather than recording that epoch twice
    with (tmp_path / "runs" / "r" / "history.csv").open("a") as fh:
        fh.write(f"{stopped_at + 1},9,0,9,0,0.001,1\n")
    resumed = cli("fit", "--resume", "runs/r", "--epochs", str(end), "--cache-dir", str(tmp_path / "cache"),
                  cwd=tmp_path)
    out2, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out2
    assert f"resuming at epoch {stopped_at}" in out2
    assert f"dropped 1 history row(s) after epoch {stopped_at}" in out2
    epochs = [int(r["epoch"]) for r in history(tmp_path / "runs" / "r")]
    assert epochs == list(range(1, end + 1))
    import keras

    run = tmp_path / "runs" / "r"
    assert getattr(keras.models.load_model(run / "last.keras"), "optimizer", None) is None  # the network only
    steps = json.loads((run / "config.json").read_text())["train_images"] // 32
    with np.load(run / "last.optimizer.npz") as saved:
        names = [str(n) for n in saved["names"]]
        iterations = int(saved[f"v{names.index('adam/iteration'):04d}"])
        assert int(saved["epoch"]) == end
    assert iterations == end * steps  # the optimizer went on from where it stopped


@pytest.fixture
def terminal_sigint():
    """The Ctrl-C handler a terminal session has: a shell starts background jobs (`nohup … &`) with SIGINT
    ignored, and Python then installs none, so without this the test would depend on how it was started."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_during_the_epoch_record_is_held_until_the_record_is_written(signum, terminal_sigint):
    from train.fit import Terminated, deferred_interrupt, stop_on_sigterm

    written = []
    sigterm_before = signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm():
        with pytest.raises(KeyboardInterrupt) as raised:
            with deferred_interrupt():
                os.kill(os.getpid(), signum)
                time.sleep(0.1)  # the handler runs here; without the deferral the interrupt lands now
                written.append("state.json")
        assert isinstance(raised.value, Terminated) == (signum == signal.SIGTERM)
        assert written == ["state.json"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with deferred_interrupt():  # no signal: nothing raised
            written.append("again")
    assert written == ["state.json", "again"]
    assert signal.getsignal(signal.SIGTERM) == sigterm_before  # put back as it was


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_sigterm_swallowed_inside_a_destructor_still_stops_the_run_at_the_epoch_edge():
    from train.fit import Terminated, raise_if_terminated, stop_on_sigterm

    class SignalledWhileCollected:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)  # the handler raises here, and Python prints and drops what a __del__ raises

    with stop_on_sigterm():
        raise_if_terminated()  # nothing yet
        SignalledWhileCollected()  # collected at once: the Terminated is swallowed
        with pytest.raises(Terminated):
            raise_if_terminated()  # what the epoch's callbacks call
    raise_if_terminated()  # outside the block the request is forgotten


def test_trim_history_keeps_the_epochs_state_json_counts_and_complete_rows_only(tmp_path):
    from train.fit import trim_history

    history_csv = tmp_path / "history.csv"
    header = "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n"
    rows = "".join(f"{e},1,0.5,1,0.5,0.01,60\n" for e in (1, 2, 3))
    history_csv.write_text(header + rows + "4,1,0.5,1,0.5,0.01,60\n")  # epoch 4: state.json says 3
    assert trim_history(history_csv, 3) == 1
    history_csv.write_text(header + rows + "\n1")  # torn while writing a row (the "1" of "10,…")
    assert trim_history(history_csv, 3) == 2
    assert history_csv.read_text().replace("\r\n", "\n") == header + rows
    assert trim_history(history_csv, 3) == 0
    assert trim_history(tmp_path / "absent.csv", 3) == 0


def _tiny_model(**changes):
    from dataclasses import replace

    from train.fit import build_model
    from train.presets import get_preset

    preset = replace(get_preset("tiny"), **changes)
    return preset, build_model(preset, steps_per_epoch=4)


def _train_steps(model, steps: int = 3) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32 * steps, 48, 48, 1)).astype(np.float32)
    y = np.eye(7, dtype=np.float32)[rng.integers(0, 7, 32 * steps)]
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)


def test_a_checkpoint_restores_weights_and_optimizer_exactly(tmp_path):
    from train.fit import restore_checkpoint, save_checkpoint

    _, model = _tiny_model()
    _train_steps(model)
    save_checkpoint(model, tmp_path / "last.keras", epoch=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.keras", "last.optimizer.npz"]  # no temp files
    _, fresh = _tiny_model()
    restore_checkpoint(fresh, tmp_path / "last.keras", epoch=3)
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(fresh.optimizer.iterations) == 3
    for a, b in zip(model.optimizer.variables, fresh.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # a network saved after its optimizer file (the run stopped between the two writes) is refused
    with pytest.raises(ValueError, match="stopped while saving"):
        restore_checkpoint(fresh, tmp_path / "last.keras", epoch=4)
    # another optimizer (SGD has one slot per weight, Adam two) is refused, not half-loaded
    _, sgd = _tiny_model(optimizer="sgd")
    with pytest.raises(ValueError, match="does not match the SGD"):
        restore_checkpoint(sgd, tmp_path / "last.keras", epoch=3)


def test_plateau_schedule_halves_the_lr_and_keeps_its_count_across_resume(tmp_path):
    from train.fit import PLATEAU_PATIENCE, _callbacks, _fresh_state

    preset, model = _tiny_model(schedule="plateau", learning_rate=1e-3)
    state = _fresh_state()

    def run_epochs(callbacks, first: int, losses: list[float]) -> None:
        for cb in callbacks:
            cb.set_model(model)
            cb.on_train_begin()
        for epoch, loss in enumerate(losses, start=first):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            for cb in callbacks:
                cb.on_epoch_end(epoch, {"loss": loss, "val_loss": loss})

    # the best holdout loss at epoch 1, then flat: still 1e-3 after PATIENCE − 1 flat epochs
    run_epochs(_callbacks(tmp_path, state, preset, 0), 0, [1.0] + [1.5] * (PLATEAU_PATIENCE - 1))
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert state["plateau"] == {"wait": PLATEAU_PATIENCE - 1, "best": 1.0}
    # a resumed run keeps the count: one more flat epoch halves the LR, and history records it
    run_epochs(_callbacks(tmp_path, state, preset, state["epoch"]), state["epoch"], [1.5])
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(5e-4)
    assert float(history(tmp_path)[-1]["lr"]) == pytest.approx(5e-4)
    assert state["plateau"]["wait"] == 0


def test_mirrored_strategy_runs_on_two_logical_cpus(data, tmp_path):
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "1", "--limit", "20",
               "--strategy", "mirrored", "--cache-dir", str(tmp_path / "cache"), "--runs-dir", "runs", cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "strategy mirrored with 2 replica(s)" in out


def test_compare_two_runs(tiny_run, data, tmp_path):
    run_a, _ = tiny_run
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "1", "--seed", "2", "--name", "tiny-b",
               "--runs-dir", str(run_a.parent), "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    assert proc.wait(timeout=600) == 0
    config_a = json.loads((run_a / "config.json").read_text())
    config_b = json.loads((run_a.parent / "tiny-b" / "config.json").read_text())
    assert config_b["seed"] == 2 and config_b["holdout_seed"] == config_a["holdout_seed"] == 1  # same holdout
    assert config_b["holdout_images"] == config_a["holdout_images"]
    plot = tmp_path / "cmp.png"
    proc = cli("compare", str(run_a), str(run_a.parent / "tiny-b"), "--plot", str(plot), cwd=tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    lines = [line for line in out.splitlines() if line.startswith(("run", "tiny-"))]
    assert lines[0].split()[:3] == ["run", "preset", "epochs"]
    assert lines[1].startswith("tiny-a") and " 4 " in lines[1]
    assert lines[2].startswith("tiny-b") and " 1 " in lines[2]
    assert plot.stat().st_size > 1000
    # an `evaluate -o DIR` folder (an ensemble's) has metrics but no run record; a stray folder is refused
    evaluation = tmp_path / "ensemble-ab"
    evaluation.mkdir()
    shutil.copy(run_a / "metrics.json", evaluation)
    proc = cli("compare", str(run_a), str(evaluation), "--markdown", cwd=tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    row_a, row_e = (line.split(" | ") for line in out.splitlines() if line.startswith(("| tiny-a", "| ensemble")))
    assert row_e[1:4] == ["—", "—", "—"] and row_e[4:] == row_a[4:]  # same metrics, no preset/epochs/hours
    proc = cli("compare", str(run_a), str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "not a run or evaluation folder" in out


def test_adjust_fits_offsets_on_the_holdout_and_writes_the_adjusted_model(tiny_run, data, tmp_path):
    import keras

    run, _ = tiny_run
    proc = cli("adjust", str(run), "--data", str(data), "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    report = json.loads((run / "adjust.json").read_text())
    modes = {"none", "prior", "per-class", "bagged"}
    assert report["mode"] in modes and set(report["holdout_candidates"]) == modes
    cross_validated = report["holdout_cross_validated"]
    assert set(cross_validated) == modes  # chosen out of fold, inside the holdout
    assert cross_validated[report["mode"]]["macro_f1"] == max(c["macro_f1"] for c in cross_validated.values())
    assert "accuracy" in report["validation"]["validation"] and "private_test" in report["validation"]
    offsets = np.array(list(report["offsets"].values()), np.float32)
    bias = keras.models.load_model(run / "best.keras").layers[-1].get_weights()[1]
    adjusted = keras.models.load_model(run / "adjusted.keras").layers[-1].get_weights()[1]
    assert np.allclose(adjusted - bias, offsets, atol=1e-6)


def test_distillation_learns_from_a_teacher_and_resumes_with_its_cached_targets(tiny_run, data, tmp_path):
    from train.distill import dequantized

    teacher, _ = tiny_run
    common = ("--cache-dir", str(tmp_path / "cache"))
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "2", "--teachers", str(teacher),
               "--name", "student", "--runs-dir", "runs", *common, cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    run = tmp_path / "runs" / "student"
    config = json.loads((run / "config.json").read_text())
    # recorded relative to the run folder, so the run resumes from any working directory or clone
    assert [(run / t).resolve() for t in config["teachers"]] == [(teacher / "best.keras").resolve()]
    assert len(config["teacher_fingerprint"]) == 16
    assert "computing teacher targets: 1 teachers" in out and "distilling from 1 teachers, weight 0.70" in out
    with np.load(run / "teacher_targets.npz") as saved:
        probs = dequantized(saved["probs"])
    assert probs.shape == (config["train_images"], 7)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-2) and probs.std(axis=0).max() > 0  # real, varying answers
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resumed = cli("fit", "--resume", str(run), "--epochs", "3", *common, cwd=elsewhere)
    out2, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out2
    assert "distilling from 1 teachers" in out2 and "computing teacher targets" not in out2  # the cache was used
    assert [int(r["epoch"]) for r in history(run)] == [1, 2, 3]
    # a damaged cache is recomputed, not a traceback
    (run / "teacher_targets.npz").write_bytes(b"not a zip file")
    resumed = cli("fit", "--resume", str(run), "--epochs", "4", *common, cwd=tmp_path)
    out3, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out3
    assert "unreadable" in out3 and "computing teacher targets" in out3
    # the run keeps its teachers: none can be added on resume
    proc = cli("fit", "--resume", str(run), "--teachers", str(teacher), *common, cwd=tmp_path)
    assert proc.communicate(timeout=300)[0].strip().endswith("--resume takes no --teachers")


def test_a_views_student_caches_its_targets_and_resumes(tiny_run, data, tmp_path):
    from train.distill import dequantized

    teacher, _ = tiny_run
    common = ("--runs-dir", "runs", "--cache-dir", str(tmp_path / "cache"))
    proc = cli("fit", "--preset", "student48-views", "--data", str(data), "--epochs", "2", "--name", "lonely",
               *common, cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "give --teachers" in out and "Traceback" not in out
    assert not (tmp_path / "runs" / "lonely").exists()
    proc = cli("fit", "--preset", "student48-views", "--data", str(data), "--epochs", "2", "--teachers",
               str(teacher), "--name", "views", *common, cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "made 8 augmented views" in out and "distilling from 1 teachers on 8 views per image" in out
    run = tmp_path / "runs" / "views"
    config = json.loads((run / "config.json").read_text())
    with np.load(run / "teacher_views.npz") as saved:
        probs = dequantized(saved["probs"])
    assert probs.shape == (8, config["train_images"], 7)
    assert np.allclose(probs.sum(axis=-1), 1, atol=1e-2)
    assert np.abs(probs[0] - probs[1]).max() > 1e-3  # the teacher answered each view, not the clean face once
    resumed = cli("fit", "--resume", str(run), "--epochs", "3", *common[2:], cwd=tmp_path)
    out2, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out2
    assert "computing teacher targets" not in out2 and "on 8 views per image" in out2  # the cache was used
    assert [int(r["epoch"]) for r in history(run)] == [1, 2, 3]
    # a new run with the same seed, augmentation and teacher labels the same views: it copies the answers
    proc = cli("fit", "--preset", "student48-views", "--data", str(data), "--epochs", "1", "--teachers",
               str(teacher), "--name", "views-twin", *common, cwd=tmp_path)
    out3, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out3
    assert f"reusing the teachers' answers from {Path('runs/views/teacher_views.npz')}" in out3
    assert "computing teacher targets" not in out3
    twin = tmp_path / "runs" / "views-twin" / "teacher_views.npz"
    assert twin.read_bytes() == (run / "teacher_views.npz").read_bytes()


def test_a_teacher_that_saw_the_holdout_is_refused(tiny_run, data, tmp_path):
    teacher, _ = tiny_run
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--teachers", str(teacher), "--holdout-seed", "2",
               "--runs-dir", "runs", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "has seen this run's holdout images" in out and "Traceback" not in out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no half-made run folder
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--teachers", str(tmp_path / "nowhere"),
               "--runs-dir", "runs", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "teacher not found" in out


def test_a_refit_on_all_of_train_keeps_its_last_epoch_and_copies_its_offsets(tiny_run, data, tmp_path):
    """--holdout 0: any teacher is accepted (nothing held out to leak into), best.keras is the last epoch, and
    the refit's merge takes offsets fitted elsewhere instead of fitting its own."""
    import keras

    teacher, _ = tiny_run
    runs, cache = tmp_path / "runs", str(tmp_path / "cache")
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "2", "--holdout", "0", "--holdout-seed", "2",
               "--teachers", str(teacher), "--name", "refit", "--runs-dir", str(runs), "--cache-dir", cache,
               cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "epoch 2/2" in out and "no holdout" in out and "val_loss" not in out
    refit = runs / "refit"
    config = json.loads((refit / "config.json").read_text())
    assert config["holdout_images"] == 0 and config["train_images"] == 7 * 60
    assert json.loads((refit / "state.json").read_text())["best_epoch"] == 2
    best, last = (keras.models.load_model(refit / name).get_weights() for name in ("best.keras", "last.keras"))
    assert all(np.array_equal(b, w) for b, w in zip(best, last, strict=True))

    proc = cli("merge", str(teacher), str(refit), "--name", "merged-refit", "--runs-dir", str(runs), "--data",
               str(data), "--cache-dir", cache, cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    merged = runs / "merged-refit"
    assert json.loads((merged / "config.json").read_text())["holdout"] == 0

    proc = cli("adjust", str(merged), "--data", str(data), "--cache-dir", cache, cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 2 and "no holdout to fit offsets on" in out and "Traceback" not in out
    source = tmp_path / "fitted"
    source.mkdir()
    from edge.labels import EMOTIONS

    offsets = dict(zip(EMOTIONS, [-0.2, 0.5, 0.25, -0.35, -0.2, -0.1, 0.1], strict=True))
    (source / "adjust.json").write_text(json.dumps({"mode": "bagged", "objective": "targets", "flip_tta": True,
                                                    "zoom_views": [1.1], "offsets": offsets}))
    proc = cli("adjust", str(merged), "--offsets-from", str(source), "--zoom-views", "1.2", "--data", str(data),
               cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 2 and "--zoom-views would fit new ones" in out
    proc = cli("adjust", str(merged), "--offsets-from", str(source), "--data", str(data), "--cache-dir", cache,
               cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    report = json.loads((merged / "adjust.json").read_text())
    assert report["mode"] == "copied" and report["offsets"] == offsets and report["zoom_views"] == [1.1]
    assert report["validation"]["validation"]["n"] == 7 * 60
    bias = keras.models.load_model(merged / "best.keras").layers[-1].get_weights()[1]
    adjusted = keras.models.load_model(merged / "adjusted.keras").layers[-1].get_weights()[1]
    np.testing.assert_allclose(adjusted - bias, list(offsets.values()), atol=1e-6)


def test_a_refit_refuses_a_schedule_that_needs_the_holdout(data, tmp_path):
    proc = cli("fit", "--preset", "seed-1", "--holdout", "0", "--data", str(data), "--runs-dir", "runs", cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "needs a fixed schedule" in out and "Traceback" not in out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_warm_start_copies_every_weight_and_refuses_another_net(tmp_path):
    from train.fit import warm_start

    _, source = _tiny_model()
    _train_steps(source)
    source.save(tmp_path / "best.keras")
    _, fresh = _tiny_model()
    assert any(not np.array_equal(a, b) for a, b in zip(source.get_weights(), fresh.get_weights(), strict=True))
    warm_start(fresh, tmp_path / "best.keras")
    for a, b in zip(source.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(fresh.optimizer.iterations) == 0  # the optimizer starts afresh: a second schedule
    _, wider = _tiny_model(model_args={"width": 12})
    before = [w.copy() for w in wider.get_weights()]
    with pytest.raises(ValueError, match="is not this preset's net"):
        warm_start(wider, tmp_path / "best.keras")
    for a, b in zip(before, wider.get_weights(), strict=True):  # refused, not half copied
        np.testing.assert_array_equal(a, b)


def test_a_run_started_from_another_records_it_and_a_holdout_mismatch_is_refused(tiny_run, data, tmp_path):
    source, _ = tiny_run
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "1", "--init-from", str(source),
               "--name", "warm", "--runs-dir", "runs", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "initialised from" in out
    config = json.loads((tmp_path / "runs" / "warm" / "config.json").read_text())
    assert (tmp_path / "runs" / "warm" / config["init_from"]).resolve() == (source / "best.keras").resolve()
    assert len(config["init_fingerprint"]) == 16
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--init-from", str(source), "--holdout-seed", "2",
               "--name", "leaky", "--runs-dir", "runs", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "has seen this run's holdout images" in out and "Traceback" not in out
    assert not (tmp_path / "runs" / "leaky").exists()
    proc = cli("fit", "--resume", str(tmp_path / "runs" / "warm"), "--init-from", str(source), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "--init-from starts a run" in out and "Traceback" not in out


def test_evaluate_writes_beside_the_model_and_never_over_the_runs_record(tiny_run, data, tmp_path):
    run, _ = tiny_run
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    record = (copy / "metrics.json").read_text()
    proc = cli("evaluate", str(copy / "last.keras"), "--no-flip", "--data", str(data), "--cache-dir",
               str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert (copy / "metrics.json").read_text() == record
    report = json.loads((copy / "last.evaluation" / "metrics.json").read_text())
    assert report["model_file"] == str(copy / "last.keras") and (copy / "last.evaluation" / "confusion.png").exists()
    (tmp_path / "note.keras").write_text("not a model")
    for given, error in ((copy, f"{copy} is a folder, not a .keras model file: give {copy / 'best.keras'}"),
                         (tmp_path / "note.keras", "is not a Keras .keras model file"),
                         (tmp_path / "gone.keras", "model not found")):
        proc = cli("evaluate", str(given), "--data", str(data), cwd=tmp_path)
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 2 and error in out and "Traceback" not in out, out


def test_evaluate_an_ensemble_averages_its_members(tiny_run, data, tmp_path):
    import keras

    from train.evaluate import Ensemble

    run, _ = tiny_run
    members = [str(run / "best.keras"), str(run / "last.keras")]
    proc = cli("evaluate", *members, "--data", str(data), "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "give -o DIR" in out
    proc = cli("evaluate", *members, "-o", "ens", "--data", str(data), "--cache-dir", str(tmp_path / "cache"),
               cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    report = json.loads((tmp_path / "ens" / "metrics.json").read_text())
    assert report["model"].startswith("ensemble(") and report["model_file"] == members
    assert report["plain"]["validation"]["n"] == 7 * 60
    models = [keras.models.load_model(m) for m in members]
    x = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)
    want = (models[0].predict(x, verbose=0) + models[1].predict(x, verbose=0)) / 2
    assert np.allclose(Ensemble(models).predict(x), want, atol=1e-6)


def test_mixed_targets_blend_labels_and_teachers():
    from train.distill import mixed_targets

    teachers = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]], np.float32)
    mixed = mixed_targets(np.array([1, 2]), teachers, 0.7)
    assert np.allclose(mixed, [[0.07, 0.72, 0.21], [0.35, 0.175, 0.475]])
    assert np.allclose(mixed_targets(np.array([1, 2]), teachers, 0.0), [[0, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="distill_weight"):
        mixed_targets(np.array([0]), teachers[:1], 1.5)


def test_teacher_targets_reuse_only_a_sibling_cache_with_the_same_fingerprint(tmp_path):
    from train.distill import teacher_targets

    def cache(run: str, fingerprint: str, value: float) -> np.ndarray:
        (tmp_path / run).mkdir()
        probs = np.full((2, 3, 7), value, np.float16)
        np.savez_compressed(tmp_path / run / "teacher_views.npz", probs=probs, fingerprint=np.array(fingerprint))
        return probs

    cache("a-other-teachers", "0123456789abcdef", 0.25)
    (tmp_path / "b-broken").mkdir()
    (tmp_path / "b-broken" / "teacher_views.npz").write_bytes(b"not a zip file")
    want = cache("c-same", "fedcba9876543210", 0.5)
    run = tmp_path / "new"
    run.mkdir()
    # a missing teacher file: computing instead of reusing would fail
    probs = teacher_targets(run, [tmp_path / "missing.keras"], np.zeros((2, 3, 48, 48), np.uint8),
                            np.zeros((2, 3), int), "fedcba9876543210", "teacher_views.npz")
    assert np.array_equal(probs, want.astype(np.float32))
    assert (run / "teacher_views.npz").read_bytes() == (tmp_path / "c-same" / "teacher_views.npz").read_bytes()
    assert sorted(p.name for p in run.iterdir()) == ["teacher_views.npz"]  # no temporary file left behind


def test_a_longer_stack_of_views_computes_only_the_views_a_sibling_has_not_answered(tiny_run, tmp_path, caplog):
    from train.distill import ensemble_probabilities, fingerprint, teacher_targets

    teacher = tiny_run[0] / "best.keras"
    rng = np.random.default_rng(3)
    views = rng.integers(0, 256, (3, 5, 48, 48), dtype=np.uint8)
    labels = np.zeros((3, 5), int)
    sibling = tmp_path / "runs" / "shorter"
    sibling.mkdir(parents=True)
    # values no teacher gives, so reading them back proves they were reused rather than recomputed
    old = np.full((2, 5, 7), 1 / 7, np.float16)
    np.savez_compressed(sibling / "teacher_views.npz", probs=old, fingerprint=np.array(fingerprint([teacher],
                                                                                                   views[:2])))
    run = tmp_path / "runs" / "longer"
    run.mkdir()
    with caplog.at_level("INFO", logger="train.distill"):
        probs = teacher_targets(run, [teacher], views, labels, fingerprint([teacher], views), "teacher_views.npz")
    assert "reusing the teachers' answers for the first 2 views" in caplog.text
    assert "1 teachers × 5 images" in caplog.text  # only the third view was answered
    assert probs.shape == (3, 5, 7)
    assert np.abs(probs[:2] - 1 / 7).max() <= 0.5 / 255  # the sibling's answers, in the cache's 1/255 steps
    fresh = ensemble_probabilities([teacher], views[2])
    assert np.abs(probs[2] - fresh).max() <= 0.5 / 255 + 1e-6
    with np.load(run / "teacher_views.npz") as saved:
        # only the new view is stored, with where the first two are: the cache stays small enough to commit
        assert saved["probs"].dtype == np.uint8 and saved["probs"].shape == (1, 5, 7)
        assert str(saved["leading_file"]) == str(Path("../shorter/teacher_views.npz"))
    again = teacher_targets(run, [teacher], views, labels, fingerprint([teacher], views), "teacher_views.npz")
    assert np.array_equal(again, probs)  # what a resumed run reads is what the first start trained on
    # the sibling's file changed: the cache no longer adds up, so it is recomputed, not trusted
    np.savez_compressed(sibling / "teacher_views.npz", probs=old, fingerprint=np.array("9" * 16))
    caplog.clear()
    with caplog.at_level("INFO", logger="train.distill"):
        redone = teacher_targets(run, [teacher], views, labels, fingerprint([teacher], views), "teacher_views.npz")
    assert "unreadable" in caplog.text and "no longer holds" in caplog.text and "1 teachers × 15 images" in caplog.text
    assert np.abs(redone[:2] - ensemble_probabilities([teacher], views[:2].reshape(-1, 48, 48)).reshape(2, 5, 7)
                  ).max() <= 0.5 / 255 + 1e-6
    # other teachers' answers for the same views are not reused
    other = tmp_path / "runs" / "other"
    other.mkdir()
    caplog.clear()
    with caplog.at_level("INFO", logger="train.distill"):
        teacher_targets(other, [teacher], views[::-1].copy(), labels, "0" * 16, "teacher_views.npz")
    assert "reusing" not in caplog.text and "1 teachers × 15 images" in caplog.text


def test_a_fresh_checkout_rebuilds_a_siblings_cache_from_its_committed_pieces(tiny_run, tmp_path, caplog):
    """A checkout holds a run's pieces but not its cache (too big to commit): a longer run resumed there finds
    the shorter sibling's answers in its pieces instead of answering all of its views again."""
    from train.distill import PIECE_IMAGES, fingerprint, teacher_targets

    teacher = tiny_run[0] / "best.keras"
    views = np.random.default_rng(5).integers(0, 256, (3, 5, 48, 48), dtype=np.uint8)
    labels = np.zeros((3, 5), int)
    sibling = tmp_path / "runs" / "shorter" / "teacher_views.pieces"
    sibling.mkdir(parents=True)
    key = np.array(f"{fingerprint([teacher], views[:2])}:0")
    # values no teacher gives (1/7 in 1/255 steps), so reading them back proves the pieces were used
    np.savez_compressed(sibling / "from-00000000.npz", probs=np.full((10, 7), 36, np.uint8), key=key)
    assert PIECE_IMAGES > 10  # one piece holds the sibling's whole pass
    run = tmp_path / "runs" / "longer"
    run.mkdir()
    with caplog.at_level("INFO", logger="train.distill"):
        probs = teacher_targets(run, [teacher], views, labels, fingerprint([teacher], views), "teacher_views.npz")
    assert "rebuilt" in caplog.text and "reusing the teachers' answers for the first 2 views" in caplog.text
    assert "1 teachers × 5 images" in caplog.text  # only the third view was answered
    assert np.array_equal(probs[:2], np.full((2, 5, 7), 36 / 255, np.float32))
    with np.load(tmp_path / "runs" / "shorter" / "teacher_views.npz") as rebuilt:
        assert rebuilt["probs"].shape == (2, 5, 7) and str(rebuilt["fingerprint"]) == str(key)[:-2]

    # pieces that fall short of the views their key names, or that extend yet another run, are not used
    for name, pieces_key, count in (("short", key, 9), ("extends", np.array(f"{str(key)[:-2]}:1"), 10)):
        other = tmp_path / name / "sibling" / "teacher_views.pieces"
        other.mkdir(parents=True)
        np.savez_compressed(other / "from-00000000.npz", probs=np.full((count, 7), 36, np.uint8), key=pieces_key)
        (tmp_path / name / "longer").mkdir()
        caplog.clear()
        with caplog.at_level("INFO", logger="train.distill"):
            teacher_targets(tmp_path / name / "longer", [teacher], views, labels, fingerprint([teacher], views),
                            "teacher_views.npz")
        assert "reusing" not in caplog.text and "1 teachers × 15 images" in caplog.text, name
        assert not (other.parent / "teacher_views.npz").exists()


def test_cli_errors_are_one_line(tmp_path):
    proc = cli("fit", "--preset", "nope", "--data", str(tmp_path), cwd=tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "unknown preset 'nope'" in out
    proc = cli("fit", "--preset", "tiny", "--data", str(tmp_path / "missing"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "dataset folder not found" in out and "Traceback" not in out
    assert not (tmp_path / "runs").exists()  # nothing half-made to trip over on the next try


def test_fit_refuses_out_of_range_options_in_one_line(tmp_path):
    for flags, error in ((("--holdout", "1.5"), "argument --holdout: must be a fraction"),
                         (("--holdout", "-0.1"), "argument --holdout: must be a fraction"),
                         (("--epochs", "0"), "argument --epochs: 0 is out of range; expected ≥ 1"),
                         (("--patience", "0"), "argument --patience: 0 is out of range; expected ≥ 1"),
                         (("--limit", "0"), "argument --limit: 0 is out of range; expected ≥ 1")):
        proc = cli("fit", "--preset", "tiny", *flags, "--data", str(tmp_path), cwd=tmp_path)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 2 and error in out and "Traceback" not in out, out
    proc = cli("fit", "--resume", "runs/r", "--patience", "5", cwd=tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--resume takes no --patience" in out
    assert not (tmp_path / "runs").exists()


def test_a_new_run_that_fails_after_its_folder_is_made_leaves_no_folder(data, tmp_path):
    """Errors found while the training split loads (here a class folder missing, and too few images for one
    batch) come after the folder exists; the folder goes with them, so the same command works once fixed. (A
    broken validation split is refused before the folder is made.)"""
    broken = {}
    for split in ("train", "validation"):
        broken[split] = tmp_path / f"broken-{split}"
        shutil.copytree(data, broken[split])
        shutil.rmtree(broken[split] / split / "sad")
    for source, extra, error in ((broken["train"], (), "missing class folder"),
                                 (broken["validation"], (), "missing class folder"),
                                 (data, ("--limit", "2"), "fewer than one batch")):
        proc = cli("fit", "--preset", "tiny", "--data", str(source), "--name", "again", "--runs-dir", "runs",
                   "--cache-dir", str(tmp_path / "cache"), *extra, cwd=tmp_path)
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 2 and error in out and "Traceback" not in out, out
        assert not (tmp_path / "runs" / "again").exists()


def test_a_resume_that_fails_leaves_the_runs_plan_as_it_was(tiny_run, tmp_path):
    run, _ = tiny_run
    copy = tmp_path / "runs" / "copy"
    shutil.copytree(run, copy)
    before = (copy / "config.json").read_text()
    proc = cli("fit", "--resume", "runs/copy", "--epochs", "9", "--data", str(tmp_path / "nope"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "dataset folder not found" in out
    assert (copy / "config.json").read_text() == before
    proc = cli("fit", "--resume", "runs/copy", "--epochs", "2", cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "has finished 4 epochs already" in out and "Traceback" not in out
    assert (copy / "config.json").read_text() == before


def test_a_run_that_cannot_resume_is_a_one_line_error_and_is_left_as_it_was(tmp_path):
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    resume = ("fit", "--resume", "runs/r", "--data", str(tmp_path))
    steps = [  # (file written before the next try, its content, the error that try gives)
        (None, None, "no config.json there"),
        ("config.json", "{not json", "its config.json is unreadable"),
        ("config.json", "{}", "its config.json records no preset"),
        ("config.json", '{"preset": {}}', None),  # no state.json: a restart from epoch 0, tested below
        ("state.json", "{}", "last.keras is missing"),
        ("last.optimizer.npz", "", "last.keras is missing"),  # the optimizer file alone does not make a checkpoint
    ]
    for name, content, error in steps:
        if name:
            (run / name).write_text(content)
        if error is None:
            continue
        before = sorted(p.name for p in run.iterdir())
        proc = cli(*resume, cwd=tmp_path)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 2 and f"cannot resume runs/r: {error}" in out and "Traceback" not in out, out
        assert sorted(p.name for p in run.iterdir()) == before  # no lock file or trimmed history left behind


def test_a_run_stopped_before_its_first_epoch_resumes_from_epoch_0_with_its_recorded_settings(tiny_run, tmp_path):
    """Stopped in its teacher pass, a run has config.json but no state.json: --resume starts it again with the
    recorded seed, holdout and epochs instead of asking for a new folder (which would lose the finished pieces)."""
    run, _ = tiny_run
    restarted = tmp_path / "runs" / "stopped"
    restarted.mkdir(parents=True)
    config = json.loads((run / "config.json").read_text())
    (restarted / "config.json").write_text(json.dumps(config))
    proc = cli("fit", "--resume", "runs/stopped", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "starting it again from epoch 0" in out
    assert [int(r["epoch"]) for r in history(restarted)] == list(range(1, config["preset"]["epochs"] + 1))
    assert json.loads((restarted / "config.json").read_text()) == config  # its record is kept as it was
    assert (restarted / "metrics.json").exists()


def test_presets_cover_the_nine_seed_trials():
    from train.presets import PRESETS

    assert all(f"seed-{i}" in PRESETS for i in range(1, 10))
    assert PRESETS["seed-6"].input_size == 96 and PRESETS["seed-3"].optimizer == "rmsprop"
    assert PRESETS["seed-8"].clipnorm == 1.0 and PRESETS["seed-7"].model_args["initializer"] == "he_normal"


def test_an_existing_run_name_is_a_one_line_error(tiny_run, data, tmp_path):
    run, _ = tiny_run
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--name", run.name, "--runs-dir", str(run.parent),
               "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "exists already" in out and "Traceback" not in out


def test_training_dataset_mixes_images_targets_and_weights(data, tmp_path):
    """With mixup/cutmix on, make_dataset yields soft targets that still sum to 1 and mixed loss weights."""
    from dataclasses import replace

    from train.augment import NO_AUGMENTATION
    from train.data import load_split
    from train.fit import make_dataset
    from train.presets import get_preset

    split = load_split(data, "train", cache_dir=tmp_path / "cache")
    preset = replace(get_preset("tiny"), batch_size=32,
                     augment=replace(NO_AUGMENTATION, mixup_alpha=0.4, cutmix_alpha=1.0))
    class_weights = np.linspace(0.5, 2.0, 7).astype(np.float32)
    images, targets, weights = next(iter(make_dataset(split, preset, training=True, seed=1,
                                                      sample_weights=class_weights)))
    targets, weights = targets.numpy(), weights.numpy()
    assert images.shape == (32, 48, 48, 1) and targets.shape == (32, 7)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    # the same seed without mixing gives the same shuffled batch, so the true labels of each position
    plain = replace(preset, augment=NO_AUGMENTATION)
    _, one_hot, _ = next(iter(make_dataset(split, plain, training=True, seed=1, sample_weights=class_weights)))
    labels = one_hot.numpy().argmax(axis=1)
    other_class = labels != labels[::-1]  # image i is mixed with image 31 − i
    assert other_class.sum() >= 8
    soft = targets.max(axis=1) < 1.0
    # mix_prob 1: every image whose partner is of another class is mixed (λ can round to 1 for a tiny cutmix box)
    assert soft[other_class].sum() >= other_class.sum() - 2
    np.testing.assert_allclose(targets[~other_class], np.eye(7)[labels[~other_class]])
    # each weight is the targets' mix of the two class weights
    np.testing.assert_allclose(weights, targets @ class_weights, rtol=1e-4)
    # the holdout is never mixed
    _, holdout_targets = next(iter(make_dataset(split, preset, training=False, seed=1)))
    assert set(np.unique(holdout_targets.numpy())) == {0.0, 1.0}


def test_merge_is_the_mean_of_the_members_logits_and_adjust_and_convert_take_it(tiny_run, data, tmp_path):
    import keras

    from edge.classify import Classifier, ClassifierOptions
    from edge.views import TestTimeViews
    from train.data import load_split

    run_a, _ = tiny_run
    runs = tmp_path / "runs"
    cache = str(tmp_path / "cache")
    proc = cli("fit", "--preset", "tiny", "--data", str(data), "--epochs", "1", "--seed", "3", "--name", "tiny-c",
               "--runs-dir", str(runs), "--cache-dir", cache, cwd=tmp_path)
    assert proc.wait(timeout=600) == 0
    run_c = runs / "tiny-c"
    proc = cli("merge", str(run_a), str(run_c), "--name", "merged", "--runs-dir", str(runs), "--cache-dir", cache,
               cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    merged_dir = runs / "merged"
    config = json.loads((merged_dir / "config.json").read_text())
    assert config["holdout_seed"] == 1 and config["preset"]["flip_tta"] is False and len(config["members"]) == 2
    assert "accuracy" in json.loads((merged_dir / "metrics.json").read_text())["plain"]["validation"]

    faces = load_split(data, "validation", cache_dir=Path(cache)).images[:64, :, :, None].astype(np.float32)
    members = [keras.models.load_model(r / "best.keras") for r in (run_a, run_c)]
    log_probs = [np.log(m.predict(faces, verbose=0)) for m in members]  # logits up to a constant per face
    mean = sum(log_probs) / 2
    expected = np.exp(mean - mean.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    merged = keras.models.load_model(merged_dir / "best.keras")
    np.testing.assert_allclose(merged.predict(faces, verbose=0), expected, atol=1e-5)
    assert not np.allclose(np.exp(log_probs[0]), np.exp(log_probs[1]), atol=1e-3)  # two different members

    # offsets fitted on the answers the model will ship with: mirror + 1.1 zoom averaged
    proc = cli("adjust", str(merged_dir), "--data", str(data), "--cache-dir", cache, "--flip", "--zoom-views", "1.1",
               cwd=tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    report = json.loads((merged_dir / "adjust.json").read_text())
    assert report["flip_tta"] is True and report["zoom_views"] == [1.1]
    model_file = tmp_path / "merged.tflite"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "convert.cli", str(merged_dir / "adjusted.keras"), "--data", str(data),
                           "--cache-dir", cache, "-o", str(model_file), "--no-verify", "--flip-average",
                           "--zoom-views", "1.1"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    clf = Classifier(ClassifierOptions(model=model_file))
    assert clf.views == TestTimeViews(mirror=True, zooms=(1.1,))  # the file says how it is to be run
    crops = faces[:4, :, :, 0].astype(np.uint8)
    np.testing.assert_allclose(clf.predict(crops), np.mean([clf.predict_view(crops, i) for i in range(4)], axis=0),
                               atol=1e-6)

    from convert.card import _training_lines
    from convert.convert import training_facts

    facts = training_facts(merged_dir / "adjusted.keras")  # what the model card says about its training
    hours = [json.loads((r / "state.json").read_text())["train_seconds"] / 3600 for r in (run_a, run_c)]
    assert [m["run_id"] for m in facts["members"]] == ["tiny-a", "tiny-c"]
    assert facts["recipe_hours"] == pytest.approx(sum(hours))
    lines = _training_lines(facts)
    assert lines[0].startswith("- Member `tiny-a`") and "4 epochs" in lines[0] and "1 epochs" in lines[1]


def test_merge_refuses_runs_with_different_holdouts(tiny_run, tmp_path):
    run_a, _ = tiny_run
    other = tmp_path / "other"
    shutil.copytree(run_a, other, ignore=shutil.ignore_patterns("*.lock"))
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "holdout_seed": 2}))
    proc = cli("merge", str(run_a), str(other), "--name", "m", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "disagree on holdout_seed" in out and "Traceback" not in out
    assert not (tmp_path / "runs" / "m").exists()


def test_a_teacher_pass_stopped_midway_resumes_from_its_partial_file(tiny_run, tmp_path, monkeypatch, caplog):
    import train.distill as distill
    import train.evaluate as evaluate
    from train.distill import ensemble_probabilities, fingerprint, teacher_targets

    teacher = tiny_run[0] / "best.keras"
    views = np.random.default_rng(5).integers(0, 256, (2, 20, 48, 48), dtype=np.uint8)
    labels = np.zeros((2, 20), int)
    expected = fingerprint([teacher], views)
    run = tmp_path / "runs" / "stopped"
    run.mkdir(parents=True)
    monkeypatch.setattr(distill, "PIECE_IMAGES", 16)  # 40 images: pieces of 16, 16 and 8
    real_predict, calls = evaluate.predict, []

    def stopped_after_two_pieces(*args, **kwargs):
        calls.append(len(args[1]))
        if len(calls) == 3:
            raise KeyboardInterrupt  # what SIGTERM or a session's end does to the pass
        return real_predict(*args, **kwargs)

    monkeypatch.setattr(evaluate, "predict", stopped_after_two_pieces)
    with pytest.raises(KeyboardInterrupt):
        teacher_targets(run, [teacher], views, labels, expected, "teacher_views.npz")
    assert not (run / "teacher_views.npz").exists()
    pieces = run / "teacher_views.pieces"
    assert sorted(p.name for p in pieces.iterdir()) == ["from-00000000.npz", "from-00000016.npz"]
    with np.load(pieces / "from-00000016.npz") as saved:
        assert saved["probs"].shape == (16, 7) and saved["probs"].dtype == np.uint8

    calls.clear()
    monkeypatch.setattr(evaluate, "predict", lambda *a, **k: calls.append(len(a[1])) or real_predict(*a, **k))
    with caplog.at_level("INFO", logger="train.distill"):
        probs = teacher_targets(run, [teacher], views, labels, expected, "teacher_views.npz")
    assert "resuming the teacher pass at image 32 of 40" in caplog.text
    assert calls == [8]  # only the last piece was answered
    fresh = ensemble_probabilities([teacher], views.reshape(-1, 48, 48)).reshape(2, 20, 7)
    assert np.abs(probs - fresh).max() <= 1 / 255 + 1e-6  # the uninterrupted pass's answers, in 1/255 steps
    assert sorted(p.name for p in run.iterdir()) == ["teacher_views.npz", "teacher_views.pieces"]

    # the pieces are the committable record: a checkout with only them rebuilds the cache with no passes
    (run / "teacher_views.npz").unlink()
    calls.clear()
    rebuilt = teacher_targets(run, [teacher], views, labels, expected, "teacher_views.npz")
    assert calls == [] and np.array_equal(rebuilt, probs)
    # a damaged piece is answered again, from there on
    (pieces / "from-00000016.npz").write_bytes(b"not a piece")
    (run / "teacher_views.npz").unlink()
    with caplog.at_level("WARNING", logger="train.distill"):
        again = teacher_targets(run, [teacher], views, labels, expected, "teacher_views.npz")
    assert "from-00000016.npz is unreadable" in caplog.text and calls == [16, 8]
    assert np.array_equal(again, probs)

    # a partial pass for other teachers or images is not resumed
    other = tmp_path / "runs" / "other"
    other.mkdir()
    (other / "teacher_views.pieces").mkdir()
    np.savez_compressed(other / "teacher_views.pieces" / "from-00000000.npz", probs=np.zeros((32, 7), np.uint8),
                        key=np.array("x"))
    calls.clear()
    caplog.clear()
    with caplog.at_level("INFO", logger="train.distill"):
        again = teacher_targets(other, [teacher], views[::-1].copy(), labels, "1" * 16, "teacher_views.npz")
    assert "for other teachers or images: not used" in caplog.text and calls == [16, 16, 8]
    assert again.shape == (2, 20, 7) and again[0].max() > 0


def test_presets_and_help_answer_without_importing_tensorflow(tmp_path):
    code = ("import sys; from train.cli import main; main(['presets']); "
            "assert 'tensorflow' not in sys.modules, 'presets imported TensorFlow'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"res48", "student48-views-xxlong", "tiny"} <= set(names) and "oneDNN" not in proc.stderr


def test_bench_measures_a_preset_and_refuses_an_unknown_one_before_printing(tmp_path):
    proc = cli("bench", "tiny", "nope", cwd=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "unknown preset 'nope'" in out and "images/s" not in out
    proc = subprocess.Popen([sys.executable, "-m", "train.cli", "bench", "tiny", "--steps", "3"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    row = next(line.split() for line in out.splitlines() if line.startswith("tiny"))
    assert int(row[1].replace(",", "")) > 0 and float(row[2]) > 0  # parameters and images/s, measured
