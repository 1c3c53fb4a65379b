"""`emotions doctor`: a pass/fail table of everything the exhibit needs on this machine.

Camera, display and audio are probed in child processes with a timeout: a wedged V4L2 driver or a
KMS/DRM display that hangs must show up as a FAIL row, not hang or crash the doctor itself.
Nothing captured is kept: frames are measured and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HELP = ("check config, texts, camera, display, audio, model, fonts, disk and TFLite runtime; non-zero exit on "
        "any failure")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FONTS_DIR = PROJECT_ROOT / "assets" / "fonts"
GOLDEN_DIR = PROJECT_ROOT / "assets" / "golden"
POLISH = "ĄĆĘŁŃÓŚŹŻąćęłńóśźż"
MIN_FREE_MB = 200
PROBE_TIMEOUT_S = 20.0

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS | WARN | FAIL (only FAIL makes the exit code non-zero)
    detail: str


# --- probes run in a child process -----------------------------------------------------------


def _probe_camera(source: str, seconds: float = 1.5) -> dict:
    """Open the source the way the exhibit does (edge.camera.parse_source), read frames, report size and FPS."""
    from edge.camera.base import CameraError, SourceError
    from edge.camera.sources import ImageFolder, VideoFile, parse_source

    try:
        cam = parse_source(source, loop=False, pace=False)
    except SourceError as err:
        return {"ok": False, "detail": str(err)}
    if source == "auto" and isinstance(cam, VideoFile):  # auto fell back to the demo video
        return {"ok": False, "detail": "no camera found (source auto would play the bundled demo video)"}
    try:
        with cam:
            return _measure(cam.read, seconds, repr(cam))
    except CameraError as err:
        busy = "" if isinstance(cam, (VideoFile, ImageFolder)) else " (if the exhibit is running, stop it first)"
        return {"ok": False, "detail": f"{err}{busy}"}


def _measure(read, seconds: float, kind: str) -> dict:
    frames, shape, start = 0, None, time.monotonic()
    while time.monotonic() - start < seconds:
        frame = read()
        if frame is None:
            break
        frames += 1
        shape = getattr(frame, "image", frame).shape
        del frame  # measured, never kept
    elapsed = max(time.monotonic() - start, 1e-6)
    if not frames:
        return {"ok": False, "detail": f"{kind}: opened but delivered no frame"}
    fps = frames / elapsed
    h, w = shape[:2]
    return {"ok": fps >= 5, "detail": f"{kind}: {w}×{h}, {fps:.1f} FPS measured" + ("" if fps >= 5 else " (too slow)")}


def _probe_display() -> dict:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not any(os.environ.get(v) for v in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")):
        os.environ["SDL_VIDEODRIVER"] = "kmsdrm"  # what the systemd service uses
    import pygame

    try:
        pygame.display.init()
        driver = pygame.display.get_driver()
        sizes = pygame.display.get_desktop_sizes()
        pygame.display.set_mode((64, 64))
        pygame.display.flip()
    except pygame.error as err:
        wanted = os.environ.get("SDL_VIDEODRIVER", "default")
        return {"ok": False, "detail": f"no display ({wanted}): {err}; on the Pi: HDMI connected, user in video/render "
                                       "groups, exhibit service stopped"}
    finally:
        pygame.display.quit()
    size = "×".join(map(str, sizes[0])) if sizes else "?"
    if driver in ("dummy", "offscreen"):
        return {"ok": None, "detail": f"driver {driver}: no real screen ({size})"}
    return {"ok": True, "detail": f"driver {driver}, screen {size}"}


def _probe_audio() -> dict:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    try:
        pygame.mixer.init()
        freq, fmt, channels = pygame.mixer.get_init()
    except pygame.error as err:
        return {"ok": False, "detail": f"no audio output: {err} (HDMI/jack connected? user in audio group?)"}
    finally:
        pygame.mixer.quit()
    driver = os.environ.get("SDL_AUDIODRIVER") or "default"
    ok: bool | None = None if driver in ("dummy", "disk") else True
    return {"ok": ok, "detail": f"mixer {freq} Hz, {channels} channels (driver {driver})"}


PROBES = {"camera": _probe_camera, "display": _probe_display, "audio": _probe_audio}


def _isolated(name: str, *args: str, timeout: float = PROBE_TIMEOUT_S) -> Check:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "edge.kiosk.doctor", "--probe", name, *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Check(name, FAIL, f"no answer within {timeout:.0f} s (driver hung?)")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        err = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return Check(name, FAIL, f"probe crashed: {err[:200]}")
    result = json.loads(lines[-1])
    status = PASS if result["ok"] is True else WARN if result["ok"] is None else FAIL
    return Check(name, status, result["detail"])


# --- in-process checks ------------------------------------------------------------------------


def check_config(path: Path | None):
    from edge.config import ConfigError, ExhibitConfig, load_config

    if path is None:
        return Check("config", PASS, "no config file: built-in defaults"), ExhibitConfig()
    warnings: list[str] = []
    try:
        config = load_config(path, warn=warnings.append)
    except ConfigError as err:
        return Check("config", FAIL, str(err)), ExhibitConfig()
    if warnings:  # e.g. a key that is no longer used: the exhibit runs, but the file should be tidied
        return Check("config", WARN, "; ".join(warnings)), config
    return Check("config", PASS, f"{path}: valid"), config


def check_content(root: Path | None) -> Check:
    """Load every text file (syntax) and check that pl and en show the same texts (`emotions run` refuses to start
    otherwise: FAIL); a staff copy that lacks keys (shown from the program's texts) or has keys the program never
    reads is a WARN."""
    from edge.ui.i18n import CONTENT_DIR, LANGUAGES, ContentError, content_notes, content_problems, flatten, load_texts

    root = root or CONTENT_DIR
    try:
        problems, notes = content_problems(root), content_notes(root)
        keys = len(flatten(load_texts(LANGUAGES[0], root)))
    except ContentError as err:
        return Check("content", FAIL, str(err))
    for status, lines in ((FAIL, problems), (WARN, notes)):
        if lines:
            more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
            return Check("content", status, "; ".join(lines[:3]) + more)
    return Check("content", PASS, f"{root}: {keys} texts in each of {', '.join(LANGUAGES)}")


def check_runtime() -> Check:
    from edge.runtime import RuntimeUnavailable, select_runtime

    try:
        rt = select_runtime()
    except RuntimeUnavailable as err:
        return Check("tflite runtime", FAIL, str(err))
    return Check("tflite runtime", PASS, f"{rt.name} {rt.version}")


def check_model(model: Path, golden_dir: Path = GOLDEN_DIR) -> list[Check]:
    """Load the model, then run it on the bundled golden face images and check the probabilities."""
    try:
        from edge.classify import Classifier
        from edge.modelfile import ModelFileError
        from edge.runtime import RuntimeUnavailable
    except ImportError as err:
        return [Check("model", FAIL, f"cannot import the classifier: {err}")]
    try:
        clf = Classifier(model=model)
    except (ModelFileError, RuntimeUnavailable) as err:
        return [Check("model", FAIL, str(err))]
    spec = clf.spec
    checks = [Check("model", PASS, f"{model.name}: {spec.name} v{spec.version}, {spec.input_size}×{spec.input_size}, "
                                   f"{len(spec.labels)} classes, {spec.quantization}, {clf.runtime.name}")]
    checks.append(check_golden(clf, golden_dir))
    return checks


def check_golden(clf, golden_dir: Path) -> Check:
    """Golden images are face crops named `<emotion>_*.png` (expected top class) or any other name (sanity only)."""
    import numpy as np

    from edge.labels import EMOTIONS

    images = sorted(golden_dir.glob("*.png")) if golden_dir.is_dir() else []
    if not images:
        return Check("model golden", WARN, f"no golden images in {golden_dir}: probabilities not checked")
    import cv2

    problems, s = [], clf.input_size
    for image in images:
        gray = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            problems.append(f"{image.name} unreadable")
            continue
        if gray.shape != (s, s):
            gray = cv2.resize(gray, (s, s), interpolation=cv2.INTER_AREA)
        p = clf.predict(gray)[0]
        if p.shape != (len(EMOTIONS),) or not np.all(np.isfinite(p)) or p.min() < -1e-3 or abs(p.sum() - 1) > 0.02:
            problems.append(f"{image.name}: not a probability vector ({np.round(p, 3).tolist()})")
            continue
        expected = image.stem.split("_")[0]
        top = EMOTIONS[int(np.argmax(p))]
        if expected in EMOTIONS and top != expected:
            problems.append(f"{image.name}: predicted {top} {p.max():.2f}, expected {expected}")
    if problems:
        return Check("model golden", FAIL, "; ".join(problems))
    return Check("model golden", PASS, f"{len(images)} golden image(s) classified as expected")


def check_fonts(fonts_dir: Path = FONTS_DIR, text: str = POLISH) -> Check:
    """Every bundled font must have a real glyph (not the .notdef box) for every Polish letter."""
    fonts = sorted(p for p in fonts_dir.glob("*") if p.suffix.lower() in (".ttf", ".otf")) if fonts_dir.is_dir() else []
    if not fonts:
        return Check("fonts", FAIL, f"no .ttf/.otf font in {fonts_dir}")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame.freetype
    except ImportError as err:
        return Check("fonts", FAIL, f"pygame.freetype unavailable: {err}")
    pygame.freetype.init()
    bad = []
    for path in fonts:
        try:
            font = pygame.freetype.Font(str(path), 32)
            metrics = font.get_metrics(text)  # None for a glyph the font does not have
            surface, rect = font.render(text, (255, 255, 255))
        except (pygame.error, OSError) as err:
            bad.append(f"{path.name}: unreadable ({err})")
            continue
        missing = "".join(ch for ch, m in zip(text, metrics) if m is None)
        if missing:
            bad.append(f"{path.name} lacks {missing}")
        elif rect.width <= 0 or surface.get_bounding_rect().width == 0:
            bad.append(f"{path.name} renders nothing")
    if bad:
        return Check("fonts", FAIL, "; ".join(bad))
    return Check("fonts", PASS, f"{len(fonts)} font(s) render {text}")


def check_disk(paths: list[Path], min_free_mb: int = MIN_FREE_MB) -> Check:
    seen, parts, fail = set(), [], False
    for path in paths:
        path = Path(path)
        while not path.exists() and path != path.parent:
            path = path.parent
        usage = shutil.disk_usage(path)
        if usage.total in seen:
            continue
        seen.add(usage.total)
        free = usage.free // 2**20
        fail |= free < min_free_mb
        parts.append(f"{path}: {free} MB free")
    detail = ", ".join(parts) + (f" (need ≥ {min_free_mb} MB)" if fail else "")
    return Check("disk", FAIL if fail else PASS, detail)


# --- the command ------------------------------------------------------------------------------


def run_checks(config_path: Path | None, source: str | None, model: Path | None,
               fonts_dir: Path = FONTS_DIR, golden_dir: Path = GOLDEN_DIR, content_dir: Path | None = None
               ) -> list[Check]:
    from edge.classify import DEFAULT_MODEL

    config_check, config = check_config(config_path)
    checks = [config_check, check_content(content_dir or config.content_path)]
    checks.append(_isolated("camera", source or config.source))
    checks.append(_isolated("display"))
    checks.append(_isolated("audio"))
    checks.append(check_runtime())
    checks.extend(check_model(Path(model or config.model_path or DEFAULT_MODEL), golden_dir))
    checks.append(check_fonts(fonts_dir))
    checks.append(check_disk([Path(config.statistics_path).parent, Path("/")]))
    return checks


def format_table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'check'.ljust(width)}  result  detail", f"{'-' * width}  ------  ------"]
    lines += [f"{c.name.ljust(width)}  {c.status.ljust(6)}  {c.detail}" for c in checks]
    failed = sum(c.status == FAIL for c in checks)
    lines.append(f"{failed} failed, {sum(c.status == WARN for c in checks)} warnings, "
                 f"{sum(c.status == PASS for c in checks)} passed")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="exhibit config (default: $EMOTIONS_CONFIG or /etc/emotions/exhibit.toml)"
    )
    parser.add_argument("--source", help="camera/video source to test instead of the config's")
    parser.add_argument("--model", type=Path, help="model file to test instead of the config's")
    parser.add_argument("--content-dir", type=Path, metavar="DIR", help="text folder to check instead of the config's")
    parser.add_argument("--fonts", type=Path, default=FONTS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--golden", type=Path, default=GOLDEN_DIR, help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    from edge.config import resolve_config_path

    checks = run_checks(resolve_config_path(args.config), args.source, args.model, args.fonts, args.golden,
                        args.content_dir)
    print(format_table(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def _probe_main(argv: list[str]) -> int:
    """Child-process entry: `python -m edge.kiosk.doctor --probe NAME [ARG]` prints one JSON line."""
    name, args = argv[0], argv[1:]
    try:
        result = PROBES[name](*args)
    except Exception as err:  # noqa: BLE001 - any failure of a probe is a FAIL row, never a traceback
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        result = {"ok": False, "detail": f"{type(err).__name__}: {first}"}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--probe":
        sys.exit(_probe_main(sys.argv[2:]))
    from edge.cli import main as cli_main

    sys.exit(cli_main(["doctor", *sys.argv[1:]]))
