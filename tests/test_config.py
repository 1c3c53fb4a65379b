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
    "detector": ('"haar"', "haar", ['""', "3", '"bogus"', '"Haar"']),
    "threads": ("2", 2, ["0", "9", "1.5", '"2"', "true"]),
    "language": ('"en"', "en", ['"de"', '"PL"', "1"]),
    "music_volume": ("0.25", 0.25, ["1.5", "-0.1", '"loud"', "true", "nan"]),
    "idle_timeout_s": ("120", 120.0, ["1", "99999", '"45"']),
    "recognize_seconds": ("2.5", 2.5, ["0", "0.29", "60", "[]"]),
    "fullscreen": ("false", False, ["0", '"no"', "1"]),
    "fps_cap": ("25", 25, ["0", "30.5", "500", '"30"']),
    "statistics": ("true", True, ["1", '"yes"']),
    "statistics_path": ('"/tmp/s.sqlite"', "/tmp/s.sqlite", ['""', "5"]),
    "content_dir": ('"/srv/texts"', "/srv/texts", ["5", "false"]),
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


def test_detector_error_lists_the_allowed_values(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, 'detector = "bogus"\n'))
    message = str(err.value)
    assert str(tmp_path / "exhibit.toml") in message and "'detector' = 'bogus'" in message
    assert '"auto" or "blazeface" or "haar"' in message and "\n" not in message


def test_a_no_longer_used_key_warns_once_and_loads(tmp_path, caplog):
    warnings: list[str] = []
    config = load_config(write(tmp_path, "effects_volume = 0.8\nmusic_volume = 0.3\n"), warn=warnings.append)
    assert config.music_volume == 0.3 and not hasattr(config, "effects_volume")
    assert len(warnings) == 1 and "'effects_volume' is no longer used" in warnings[0] and "\n" not in warnings[0]
    with caplog.at_level("WARNING", logger="edge.config"):  # the default: one log line (journald)
        load_config(write(tmp_path, "effects_volume = 0.8\n"))
    assert [r.getMessage() for r in caplog.records if "effects_volume" in r.getMessage()] == [
        f"{tmp_path / 'exhibit.toml'}: 'effects_volume' is no longer used (there are no sound effects; only "
        "music_volume is used); delete the line"]
    with pytest.raises(ConfigError):  # deprecated is not "anything goes" for other keys
        load_config(write(tmp_path, "effects_volume = 0.8\nbogus = 1\n"))


def test_a_countdown_an_older_version_accepted_still_loads_raised_to_its_minimum(tmp_path):
    warnings: list[str] = []
    config = load_config(write(tmp_path, "recognize_seconds = 0.3\n"), warn=warnings.append)
    assert config.recognize_seconds == 0.5
    assert len(warnings) == 1 and "'recognize_seconds' = 0.3 is below the shortest countdown" in warnings[0]
    assert load_config(write(tmp_path, "recognize_seconds = 0.5\n"), warn=warnings.append).recognize_seconds == 0.5
    assert len(warnings) == 1


def test_relative_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "exhibit.toml"
    path.write_text('model = "models/m.tflite"\nstatistics_path = "stats.sqlite"\ncontent_dir = "content"\n'
                    'source = "videos/loop.mp4"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # like the service (WorkingDirectory=/var/lib/emotions): not the config's folder
    config = load_config(Path("etc/exhibit.toml"))
    assert config.model == str(folder / "models" / "m.tflite")
    assert config.statistics_path == str(folder / "stats.sqlite")
    assert config.content_dir == str(folder / "content")
    assert config.source == str(folder / "videos" / "loop.mp4")
    for source in ("auto", "picamera2", "demo", "0", "/dev/video0", "/abs/clip.mp4", "~/clip.mp4"):
        path.write_text(f'source = "{source}"\nmodel = ""\n', encoding="utf-8")
        config = load_config(path)
        assert config.source == source and config.model == ""  # keywords, devices, absolute and empty: as written


def test_example_documents_the_allowed_detectors_and_no_removed_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "effects_volume" not in text
    detector_comment = next(line for line in text.splitlines() if line.startswith("# Face detector"))
    for name in ("auto", "blazeface", "haar"):
        assert f'"{name}"' in detector_comment


def test_example_has_the_content_dir_line_install_sh_rewrites():
    """install.sh points a new config at /etc/emotions/content by rewriting this exact line with sed."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    assert lines.count('content_dir = ""') == 1
    install = (EXAMPLE.parent / "install.sh").read_text(encoding="utf-8")
    assert 's|^content_dir = \\"\\"|content_dir = \\"$CONTENT_DIR\\"|' in install
