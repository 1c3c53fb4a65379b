"""The exhibit's configuration: one TOML file (stdlib tomllib), validated key by key.

This module holds the schema (dataclasses with documented defaults) and `load_config`.
Unknown keys or wrong types give one-line `ConfigError`s naming the key and the allowed values,
so a technician reading `journalctl` sees exactly which line of the file to fix.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.detect import DETECTORS

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("/etc/emotions/exhibit.toml")  # where systemd/install.sh puts it
CONFIG_ENV = "EMOTIONS_CONFIG"
LANGUAGES: tuple[str, ...] = ("pl", "en")


class ConfigError(Exception):
    """A bad configuration; the message is one line naming the key."""


@dataclass(frozen=True)
class ActivityConfig:
    dance_seconds: float = 30.0  # joy: dance challenge length
    breathing_minutes: float = 3.0  # anger: breathing session length
    breathing_inhale_s: float = 4.0
    breathing_hold_s: float = 2.0
    breathing_exhale_s: float = 4.0


@dataclass(frozen=True)
class ExhibitConfig:
    source: str = "auto"  # auto | picamera2 | 0 | /dev/video0 | path/to/video.mp4 | path/to/folder
    model: str = ""  # empty = the shipped assets/models/emotion.tflite
    detector: str = "auto"  # auto (the measured default) | blazeface | haar
    threads: int = 1
    language: str = "pl"  # pl | en
    music_volume: float = 0.6  # 0..1
    idle_timeout_s: float = 45.0  # no touch and no face for this long → back to Attract
    recognize_seconds: float = 1.5  # countdown while the pipeline decides
    fullscreen: bool = True
    fps_cap: int = 30
    privacy_notice: dict[str, str] = field(default_factory=dict)  # per language; empty = the content default
    statistics: bool = False  # anonymous counts per emotion per hour in a local SQLite file
    statistics_path: str = "/var/lib/emotions/stats.sqlite"
    content_dir: str = ""  # folder with pl/ and en/ text files; empty = the bundled assets/content
    activities: ActivityConfig = field(default_factory=ActivityConfig)

    @property
    def model_path(self) -> Path | None:
        return Path(self.model) if self.model else None

    @property
    def content_path(self) -> Path | None:
        return Path(self.content_dir) if self.content_dir else None


# --- validation -------------------------------------------------------------------------------
# One rule per key: (checker, description of the allowed values). A checker returns the
# normalised value or raises ValueError; the description goes into the one-line error.


def _string(nonempty: bool = False):
    def check(v: Any) -> str:
        if not isinstance(v, str) or (nonempty and not v.strip()):
            raise ValueError
        return v

    return check


def _choice(*allowed: str):
    def check(v: Any) -> str:
        if v not in allowed:
            raise ValueError
        return v

    return check


def _number(lo: float, hi: float, *, lo_open: bool = False):
    def check(v: Any) -> float:
        # bool is an int subclass: `volume = true` is a mistake, not 1.0
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError
        if v < lo or v > hi or (lo_open and v == lo):
            raise ValueError
        return float(v)

    return check


def _integer(lo: int, hi: int):
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError
        return v

    return check


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError
    return v


def _notice(v: Any) -> dict[str, str]:
    if not isinstance(v, dict):
        raise ValueError
    for lang, text in v.items():
        if lang not in LANGUAGES or not isinstance(text, str):
            raise ValueError
    return dict(v)


_RULES: dict[str, tuple[Any, str]] = {
    "source": (_string(True), "a non-empty string: auto, picamera2, a camera index like \"0\", /dev/videoN, "
               "a video file or an image folder"),
    "model": (_string(), "a string: a .tflite path, or \"\" for the shipped model"),
    "detector": (_choice("auto", *DETECTORS), " or ".join(f'"{x}"' for x in ("auto", *DETECTORS))),
    "threads": (_integer(1, 8), "an integer 1..8"),
    "language": (_choice(*LANGUAGES), " or ".join(f'"{x}"' for x in LANGUAGES)),
    "music_volume": (_number(0.0, 1.0), "a number 0..1"),
    "idle_timeout_s": (_number(5.0, 3600.0), "a number of seconds 5..3600"),
    # 0.3..0.5 was accepted before the countdown's real minimum was documented: still loads, raised to 0.5.
    "recognize_seconds": (_number(0.3, 10.0), "a number of seconds 0.5..10"),
    "fullscreen": (_boolean, "true or false"),
    "fps_cap": (_integer(5, 120), "an integer 5..120"),
    "privacy_notice": (_notice, "a table of texts per language, e.g. [privacy_notice] pl = \"...\" en = \"...\" "
                       f"(languages: {', '.join(LANGUAGES)})"),
    "statistics": (_boolean, "true or false"),
    "statistics_path": (_string(True), "a non-empty file path string"),
    "content_dir": (_string(), "a folder holding pl/ and en/ text files, or \"\" for the bundled texts"),
}

SHORTEST_COUNTDOWN = 0.5  # seconds: fewer frames than that cannot outvote one odd frame

# Keys older versions accepted that nothing reads any more: a warning, not a refusal to start.
_DEPRECATED: dict[str, str] = {
    "effects_volume": "there are no sound effects; only music_volume is used",
}

# Keys holding a path: a relative one means "next to the config file", not the process's working directory
# (the service runs in /var/lib/emotions, `emotions doctor` wherever the technician stands).
_PATH_KEYS = ("model", "statistics_path", "content_dir")
_SOURCE_WORDS = ("auto", "picamera2", "picam", "picamera", "demo")

_ACTIVITY_RULES: dict[str, tuple[Any, str]] = {
    "dance_seconds": (_number(5.0, 600.0), "a number of seconds 5..600"),
    "breathing_minutes": (_number(0.5, 30.0), "a number of minutes 0.5..30"),
    "breathing_inhale_s": (_number(0.0, 20.0, lo_open=True), "a number of seconds >0..20"),
    "breathing_hold_s": (_number(0.0, 20.0), "a number of seconds 0..20"),
    "breathing_exhale_s": (_number(0.0, 20.0, lo_open=True), "a number of seconds >0..20"),
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _apply(data: dict, rules: dict[str, tuple[Any, str]], prefix: str, where: str,
           warn: Callable[[str], None] = log.warning) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = prefix + key
        if not prefix and key in _DEPRECATED:
            warn(f"{where}: '{name}' is no longer used ({_DEPRECATED[key]}); delete the line")
            continue
        if key not in rules:
            allowed = ", ".join(sorted(rules) + (["[activities]"] if not prefix else []))
            raise ConfigError(f"{where}: unknown key '{name}'; allowed keys: {allowed}")
        check, description = rules[key]
        try:
            out[key] = check(value)
        except ValueError:
            raise ConfigError(f"{where}: '{name}' = {_short(value)} is invalid; expected {description}") from None
    return out


def _is_source_path(source: str) -> bool:
    """A `source` naming a file or folder (not a keyword, camera index, device or home-relative path)."""
    return not (source in _SOURCE_WORDS or source.isdigit() or source.startswith(("/", "~")))


def resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative path values made absolute against `base` (the config file's folder); empty ones stay empty."""
    out = dict(values)
    for key in _PATH_KEYS:
        value = out.get(key)
        if value and not Path(value).expanduser().is_absolute():
            out[key] = str(base / value)
    source = out.get("source")
    if source and _is_source_path(source.strip()):
        out["source"] = str(base / source.strip())
    return out


def config_from_dict(data: dict, where: str = "config", base: Path | None = None,
                     warn: Callable[[str], None] = log.warning) -> ExhibitConfig:
    """Validate a parsed TOML document and build the config; `where` names the file in errors, `base` is
    the folder relative paths are resolved against (None = leave them as written)."""
    data = dict(data)
    activities = data.pop("activities", {})
    if not isinstance(activities, dict):
        raise ConfigError(f"{where}: 'activities' must be a table ([activities]); expected keys: "
                          + ", ".join(_ACTIVITY_RULES))
    top = _apply(data, _RULES, "", where, warn)
    if top.get("recognize_seconds", SHORTEST_COUNTDOWN) < SHORTEST_COUNTDOWN:
        warn(f"{where}: 'recognize_seconds' = {top['recognize_seconds']} is below the shortest countdown; "
             f"{SHORTEST_COUNTDOWN} is used (write 0.5..10)")
        top["recognize_seconds"] = SHORTEST_COUNTDOWN
    if base is not None:
        top = resolve_paths(top, base)
    acts = _apply(activities, _ACTIVITY_RULES, "activities.", where)
    return dataclasses.replace(ExhibitConfig(), **top, activities=ActivityConfig(**acts))


def load_config(path: Path | None, warn: Callable[[str], None] = log.warning) -> ExhibitConfig:
    """The configuration in `path` (TOML), or the defaults when `path` is None.

    Relative paths in the file are taken relative to the file's folder. Raises ConfigError with one
    line naming the file and the offending key; `warn` receives one line per deprecated key.
    """
    if path is None:
        return ExhibitConfig()
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return config_from_dict(data, str(path), base=path.resolve().parent, warn=warn)


def resolve_config_path(path: Path | None) -> Path | None:
    """The file a tool should read: the given one, else $EMOTIONS_CONFIG, else the installed one if present."""
    if path is not None:
        return Path(path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
