"""Command-line options: numbers out of range are argparse's one-line error (never a traceback or a tight loop),
`--zoom-views` does not swallow paths, options without a command mean `run`, sources that never open end `watch`
with one line, and scripts/exhibit.sh leaves the source to the config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.argtypes import integer, number, number_list
from edge.cli import build_parser, with_default_command

ROOT = Path(__file__).resolve().parents[1]


def parse(*argv: str):
    return build_parser().parse_args(with_default_command(list(argv)))


def parse_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("emotions ") and "error:" in err[-1]
    return err[-1]


@pytest.mark.parametrize("argv, option", [
    (("bench", "--frames", "-1"), "--frames"),
    (("bench", "--frames", "0"), "--frames"),
    (("bench", "--ui", "--seconds", "0"), "--seconds"),
    (("watch", "--every", "-1"), "--every"),
    (("watch", "--every", "0"), "--every"),
    (("watch", "--seconds", "-5"), "--seconds"),
    (("classify", "--threads", "0", "x.jpg"), "--threads"),
    (("classify", "--threads", "-1", "x.jpg"), "--threads"),
    (("classify", "--threads", "100", "x.jpg"), "--threads"),
    (("watch", "--detect-every", "0"), "--detect-every"),
    (("soak", "--source", "demo", "--seconds", "0"), "--seconds"),
    (("soak", "--source", "demo", "--report-every", "0"), "--report-every"),
    (("soak", "--source", "demo", "--visitor-every", "-1"), "--visitor-every"),
    (("bench", "--frames", "many"), "--frames"),
    (("watch", "--every", "nan"), "--every"),
])
def test_out_of_range_numbers_are_one_line_errors(capsys, argv, option):
    line = parse_error(capsys, *argv)
    assert f"argument {option}:" in line, line


def test_valid_numbers_parse():
    args = parse("classify", "--threads", "8", "x.jpg")
    assert args.threads == 8
    assert parse("bench", "--frames", "1", "--ui", "--seconds", "0.5").frames == 1
    assert parse("watch", "--every", "0.1", "--seconds", "0").every == 0.1


def test_argtypes_are_pure_and_name_the_range():
    assert integer(1, 8)("3") == 3 and number(0.0, lo_open=True)("0.25") == 0.25
    with pytest.raises(Exception, match=r"expected 1\.\.8"):
        integer(1, 8)("9")
    with pytest.raises(Exception, match="expected > 0"):
        number(0.0, lo_open=True)("0")
    assert number_list("1.1, 1.25") == [1.1, 1.25] and number_list("none") == [] and number_list("") == []
    with pytest.raises(Exception, match="'x' is not a number"):
        number_list("1.1,x")


def test_zoom_views_do_not_swallow_the_paths():
    args = parse("classify", "--zoom-views", "1.1", "photo.jpg")
    assert args.zoom_views == [1.1] and [str(p) for p in args.paths] == ["photo.jpg"]
    args = parse("classify", "--zoom-views", "1.1,1.25", "--zoom-views", "0.9", "a.jpg", "b.jpg")
    assert args.zoom_views == [1.1, 1.25, 0.9] and len(args.paths) == 2
    assert parse("classify", "--zoom-views", "none", "a.jpg").zoom_views == []
    assert parse("classify", "a.jpg").zoom_views is None  # the model file's recommendation


def test_options_without_a_command_mean_run():
    args = parse("--source", "demo")
    assert args.command == "run" and args.source == "demo"
    assert parse("-v", "--windowed").command == "run"
    assert parse().command == "run"
    assert parse("doctor").command == "doctor"


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("EMOTIONS_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_classify_with_zoom_views_reads_the_photo(tmp_path):
    import cv2
    from skimage import data

    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    done = run_cli("classify", "--json", "--zoom-views", "1.1", str(photo))
    assert done.returncode == 0, done.stderr
    assert f'"path": "{photo}"' in done.stdout and '"error": null' in done.stdout
    assert "INFO: Created TensorFlow Lite" not in done.stderr  # the runtime's notice is filtered out


@pytest.mark.parametrize("kind", ["empty folder", "camera index", "broken images", "not a video"])
def test_watch_on_a_source_that_never_opens_is_one_line_and_exit_2(tmp_path, kind):
    if kind == "empty folder":
        source = tmp_path / "empty"
        source.mkdir()
    elif kind == "camera index":
        source = "7"
        if Path("/dev/video7").exists():
            pytest.skip("/dev/video7 exists on this machine")
    elif kind == "broken images":
        source = tmp_path / "broken"
        source.mkdir()
        (source / "a.jpg").write_bytes(b"not a jpeg")
    else:
        source = tmp_path / "fake.mp4"
        source.write_text("just text")
    done = run_cli("watch", "--source", str(source), "--every", "0.2", timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("emotions watch: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr and done.stdout == ""
    assert "INFO: Created TensorFlow Lite" not in done.stderr and "moov atom" not in done.stderr
    assert "can't open camera by index" not in done.stderr  # OpenCV's own V4L2 warnings are silenced


def test_exhibit_script_leaves_the_source_to_the_config(tmp_path):
    """scripts/exhibit.sh must not pass --source: the config's `source` (or --source given to the script) wins."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".installed-edge").touch()  # newer than setup.cfg: bootstrap.sh installs nothing
    record = tmp_path / "argv.txt"
    fake = venv / "bin" / "emotions"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fake.chmod(0o755)
    env = {**os.environ, "EMOTIONS_VENV": str(venv), "SDL_VIDEODRIVER": "dummy"}
    for extra, expected in [((), ["run"]), (("--source", "0"), ["run", "--source", "0"])]:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "exhibit.sh"), *extra], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert record.read_text().split() == expected


def test_run_takes_the_source_from_the_config_when_none_is_given(tmp_path):
    from edge.ui.app import _load_config

    config = tmp_path / "exhibit.toml"
    config.write_text('source = "clips/loop.mp4"\n', encoding="utf-8")
    args = parse("run", "--config", str(config))
    assert _load_config(args).source == str(tmp_path / "clips" / "loop.mp4")
    args = parse("run", "--config", str(config), "--source", "demo")
    assert _load_config(args).source == "demo"
