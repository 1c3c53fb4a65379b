"""Staff-edited texts (`content_dir`, a copy of the program's): a key the copy lacks shows the program's text and is a
WARN row in `emotions doctor`; texts that differ between languages in a way no fallback mends (lists of different
lengths) or a broken file stop `emotions run` at start with one line naming the file, and are a FAIL row."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("EMOTIONS_MUSIC_DIR", tempfile.mkdtemp(prefix="emotions-music-"))

import pytest  # noqa: E402
from ui_fakes import ScriptedVision  # noqa: E402

from edge.config import ExhibitConfig  # noqa: E402
from edge.kiosk.doctor import FAIL, PASS, WARN, check_content  # noqa: E402
from edge.ui.app import ExhibitApp  # noqa: E402
from edge.ui.i18n import CONTENT_DIR, Content, ContentError, content_notes, content_problems  # noqa: E402
from edge.ui.i18n import check_content as check_texts

ROOT = Path(__file__).resolve().parents[1]
GET_READY = 'get_ready = "'  # a key of [dance] in joy.toml, both languages


def copy_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def drop_line(path: Path, startswith: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(startswith)]
    assert len(kept) == len(lines) - 1, f"expected exactly one line starting with {startswith!r} in {path}"
    path.write_text("".join(kept), encoding="utf-8")


def run_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("EMOTIONS_CONFIG", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_bundled_texts_have_no_problems():
    assert content_problems() == []
    assert check_content(None).status == PASS


def drop_last_option(path: Path) -> None:
    """Remove the last [[rorschach.options]] table (three keys) from a disgust.toml."""
    text = path.read_text(encoding="utf-8")
    cut = text.rindex("[[rorschach.options]]")
    assert text.count("[[rorschach.options]]") > 1
    path.write_text(text[:cut], encoding="utf-8")


def test_a_key_the_staff_copy_lacks_shows_the_programs_text_and_is_a_warning(tmp_path):
    root = copy_content(tmp_path)
    drop_line(root / "en" / "joy.toml", GET_READY)
    assert content_problems(root) == []
    check_texts(root)  # the exhibit starts
    program = Content("en").t("joy.dance.get_ready")
    assert Content("en", root=root).t("joy.dance.get_ready") == program
    notes = content_notes(root)
    assert notes == [f"{root / 'en' / 'joy.toml'}: no key 'dance.get_ready', the program's text is shown"]
    row = check_content(root)
    assert row.status == WARN and "en/joy.toml: no key 'dance.get_ready'" in row.detail


def test_a_misspelt_key_is_named_and_the_program_text_shown(tmp_path):
    """After an update adds a text, or when staff misspell a key, their copy lacks it: the visitor still sees a
    text, and doctor names both the missing and the unused key."""
    root = copy_content(tmp_path)
    path = root / "pl" / "joy.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(GET_READY, 'get_redy = "', 1), encoding="utf-8")
    notes = content_notes(root)
    assert f"{path}: no key 'dance.get_ready', the program's text is shown" in notes
    assert f"{path}: key 'dance.get_redy' is not used by the program (misspelt?)" in notes
    assert Content("pl", root=root).t("joy.dance.get_ready") == Content("pl").t("joy.dance.get_ready")


def test_lists_of_different_lengths_are_a_problem_naming_the_file(tmp_path):
    """The language can switch mid-activity at any item, so a list one language shortens cannot be mended by
    the program's texts: it is refused."""
    root = copy_content(tmp_path)
    drop_last_option(root / "en" / "disgust.toml")
    problems = content_problems(root)
    assert problems and all(p.startswith(f"{root / 'en' / 'disgust.toml'}: missing key 'rorschach.options.9.")
                            for p in problems), problems
    with pytest.raises(ContentError, match="en/disgust.toml: missing key 'rorschach.options.9"):
        check_texts(root)
    row = check_content(root)
    assert row.status == FAIL and "en/disgust.toml" in row.detail
    drop_last_option(root / "pl" / "disgust.toml")  # shortened in both: an edit, and a consistent one
    assert content_problems(root) == [] and content_notes(root) == []


def test_an_item_of_a_list_without_a_key_every_item_needs_is_a_problem(tmp_path):
    """Lists are the copy's own (nothing fills an item's gap): an option deleted its summary in both languages
    would stop the ink-blot game when a visitor picks it, so the start is refused."""
    root = copy_content(tmp_path)
    drop_line(root / "en" / "disgust.toml", 'summary = "Spilled soup')  # the eighth option's
    drop_line(root / "pl" / "disgust.toml", 'summary = "Rozlana zupa')
    problems = content_problems(root)
    assert len(problems) == 2 and all("missing key 'rorschach.options.7.summary' (every item" in p for p in problems)
    assert content_notes(root) == []


def test_broken_and_missing_folders_are_fail_rows(tmp_path):
    root = copy_content(tmp_path)
    (root / "pl" / "ui.toml").write_text('[attract\nbutton = "x"\n', encoding="utf-8")
    row = check_content(root)
    assert row.status == FAIL and "pl/ui.toml" in row.detail and "\n" not in row.detail
    row = check_content(tmp_path / "nowhere")
    assert row.status == FAIL and "not found" in row.detail


def test_the_app_reads_texts_from_content_dir(tmp_path):
    root = copy_content(tmp_path)
    path = root / "en" / "ui.toml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace('camera_lost = "The camera is taking a break.', 'camera_lost = "Our camera is resting.')
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    config = ExhibitConfig(fullscreen=False, language="en", content_dir=str(root))
    app = ExhibitApp(config, ScriptedVision(), screen_size=(800, 480), headless=True)
    assert app.content.t("attract.camera_lost").startswith("Our camera is resting.")
    drop_last_option(root / "en" / "disgust.toml")
    with pytest.raises(ContentError, match="en/disgust.toml: missing key 'rorschach.options.9"):
        ExhibitApp(config, ScriptedVision(), screen_size=(800, 480), headless=True)


def test_run_refuses_to_start_with_one_line(tmp_path):
    root = copy_content(tmp_path)
    drop_last_option(root / "en" / "disgust.toml")
    config = tmp_path / "exhibit.toml"
    config.write_text('content_dir = "content"\nfullscreen = false\n', encoding="utf-8")  # relative to the file
    done = run_cli("run", "--config", str(config), "--source", "demo")
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith(
        f"emotions run: error: {root / 'en' / 'disgust.toml'}: missing key 'rorschach.options.9.") and (
        "(and 2 more: run 'emotions doctor')" in errors[0]), done.stderr
    assert "Traceback" not in done.stderr


def test_doctor_fails_on_broken_texts(tmp_path):
    root = copy_content(tmp_path)
    (root / "en" / "fear.toml").write_text("title = 'unterminated\n", encoding="utf-8")
    done = run_cli("doctor", "--content-dir", str(root), "--source", "/dev/video63", timeout=180)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("content "))
    assert " FAIL " in row and "en/fear.toml" in row, row
