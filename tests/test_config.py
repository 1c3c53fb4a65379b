"""Config validation: every key accepts its documented values and refuses wrong types, ranges and unknown keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edge.config import ActivityConfig, ConfigError, ExhibitConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "systemd" / "exhibit.example.toml"

# key → (a valid TOML value and its parsed form, list of invalid TOML values)
TOP = {
    "source": ('"/dev/video0"', "/dev/video0", ['""', "0", "true", "[1]"]),
    "model": ('"/opt/m.tflite"', "/opt/m.tflite", ["1", "false"]),
    "detector": ('"haar"', "haar", ['""', "3"]),
    "threads": ("2", 2, ["0", "9", "1.5", '"2"', "true"]),
    "language": ('"en"', "en", ['"de"', '"PL"', "1"]),
    "music_volume": ("0.25", 0.25, ["1.5", "-0.1", '"loud"', "true", "nan"]),
    "effects_volume": ("1", 1.0, ["2", '"x"', "false"]),
    "idle_timeout_s": ("120", 120.0, ["1", "99999", '"45"']),
    "recognize_seconds": ("2.5", 2.5, ["0", "60", "[]"]),
    "fullscreen": ("false", False, ["0", '"no"', "1"]),
    "fps_cap": ("25", 25, ["0", "30.5", "500", '"30"']),
    "statistics": ("true", True, ["1", '"yes"']),
    "statistics_path": ('"/tmp/s.sqlite"', "/tmp/s.sqlite", ['""', "5"]),
}
ACTIVITIES = {
    "dance_seconds": ("45", 45.0, ["1", "1000", '"30"']),
    "breathing_minutes": ("1.5", 1.5, ["0", "31", "true"]),
    "breathing_inhale_s": ("3", 3.0, ["0", "21", '"4"']),
    "breathing_hold_s": ("0", 0.0, ["-1", "25", "[]"]),
    "breathing_exhale_s": ("5.5", 5.5, ["0", "-2", "false"]),
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exhibit.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_has_a_rule():
    assert set(TOP) | {"privacy_notice", "activities"} == {f.name for f in dataclasses.fields(ExhibitConfig)}
    assert set(ACTIVITIES) == {f.name for f in dataclasses.fields(ActivityConfig)}


def test_none_and_empty_file_give_defaults(tmp_path):
    assert load_config(None) == ExhibitConfig()
    assert load_config(write(tmp_path, "")) == ExhibitConfig()


@pytest.mark.parametrize("key", sorted(TOP))
def test_top_level_key(tmp_path, key):
    text, parsed, bad_values = TOP[key]
    config = load_config(write(tmp_path, f"{key} = {text}\n"))
    assert getattr(config, key) == parsed
    assert type(getattr(config, key)) is type(getattr(ExhibitConfig(), key))
    for bad in bad_values:
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path, f"{key} = {bad}\n"))
        message = str(err.value)
        assert "\n" not in message and f"'{key}'" in message and "expected" in message, message


@pytest.mark.parametrize("key", sorted(ACTIVITIES))
def test_activity_key(tmp_path, key):
    text, parsed, bad_values = ACTIVITIES[key]
    config = load_config(write(tmp_path, f"[activities]\n{key} = {text}\n"))
    assert getattr(config.activities, key) == parsed
    for bad in bad_values:
        with pytest.raises(ConfigError, match=rf"'activities\.{key}' = .* expected"):
            load_config(write(tmp_path, f"[activities]\n{key} = {bad}\n"))


def test_privacy_notice(tmp_path):
    config = load_config(write(tmp_path, '[privacy_notice]\npl = "Nic nie zapisujemy."\nen = "Nothing is stored."\n'))
    assert config.privacy_notice == {"pl": "Nic nie zapisujemy.", "en": "Nothing is stored."}
    for bad in ['privacy_notice = "text"', '[privacy_notice]\nde = "Text"', "[privacy_notice]\npl = 3"]:
        with pytest.raises(ConfigError, match=r"'privacy_notice' .* \(languages: pl, en\)"):
            load_config(write(tmp_path, bad + "\n"))


def test_unknown_keys_name_the_key_and_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, 'sorce = "auto"\n'))
    assert "unknown key 'sorce'" in str(err.value) and "source" in str(err.value)
    with pytest.raises(ConfigError, match=r"unknown key 'activities\.dance_minutes'.*dance_seconds"):
        load_config(write(tmp_path, "[activities]\ndance_minutes = 1\n"))
    with pytest.raises(ConfigError, match="'activities' must be a table"):
        load_config(write(tmp_path, "activities = 3\n"))


def test_file_problems_are_one_line(tmp_path):
    for path, text, expected in [
        (tmp_path / "missing.toml", None, "not found"),
        (tmp_path / "broken.toml", "source = \n", "not valid TOML"),
        (tmp_path / "latin1.toml", b'source = "\xe6"\n', "not UTF-8|not valid TOML"),
    ]:
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif text is not None:
            path.write_text(text)
        with pytest.raises(ConfigError, match=expected) as err:
            load_config(path)
        assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_example_file_loads_and_equals_the_defaults():
    assert load_config(EXAMPLE) == ExhibitConfig()
    text = EXAMPLE.read_text(encoding="utf-8")
    for name in list(TOP) + list(ACTIVITIES) + ["privacy_notice"]:  # every key is documented there
        assert name in text, name
