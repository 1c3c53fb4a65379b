"""Content files: both languages complete, clear one-line errors for bad data, fonts with Polish letters,
and text that fits its box."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pygame  # noqa: E402
import pytest  # noqa: E402

from edge.ui.i18n import CONTENT_DIR, LANGUAGES, Content, ContentError, flatten, load_language, missing_keys  # noqa: E402
from edge.ui.widgets import FONT_DIR, FontError, Fonts, TextCache, fit_text  # noqa: E402


def test_every_key_exists_in_both_languages():
    assert missing_keys() == []


def test_a_missing_key_is_reported(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    path = root / "en" / "anger.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('hold = "Hold"\n', ""), encoding="utf-8")
    assert missing_keys(root) == ["en: anger.breathing.hold"]


def test_list_lengths_count_as_keys():
    assert "a.1" in flatten({"a": ["x", "y"]})


def test_missing_content_key_is_a_one_line_error():
    content = Content("pl")
    with pytest.raises(ContentError) as err:
        content.t("attract.no_such_key")
    assert "attract.no_such_key" in str(err.value) and "\n" not in str(err.value)


def test_broken_toml_is_a_one_line_error(tmp_path):
    (tmp_path / "pl").mkdir()
    (tmp_path / "pl" / "ui.toml").write_text("[attract\nbutton = 1", encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_language("pl", tmp_path)
    assert "ui.toml" in str(err.value) and "\n" not in str(err.value)


def test_placeholders_are_filled():
    content = Content("en")
    assert content.t("joy.dance.final_score", score=120) == "Your score: 120"
    content.toggle()
    assert content.lang == "pl" and content.t("joy.dance.final_score", score=7) == "Twój wynik: 7"


def test_bundled_font_and_license_are_there_and_cover_polish():
    assert (FONT_DIR / "Quicksand-OFL.txt").read_text().count("SIL OPEN FONT LICENSE") >= 1
    fonts = Fonts()
    font = fonts.get(30)
    assert all(m is not None for m in font.metrics("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"))


def test_broken_font_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font at all")
    with pytest.raises(FontError) as err:
        Fonts(bold=bad)
    assert "bad.ttf" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(FontError):
        Fonts(bold=tmp_path / "missing.ttf")


def _texts(value) -> list[str]:
    return [v for v in flatten(value).values() if isinstance(v, str)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_fits_a_button_sized_box_at_800x480(lang):
    """The smallest boxes the scenes use for content text at 800×480 (a three-line answer button)."""
    pygame.font.init()
    fonts = Fonts()
    for text in _texts(load_language(lang)):
        font, lines, fits = fit_text(fonts, text, (380, 120), 26, 11)
        assert fits, f"{lang}: {text!r}"
        assert all(font.size(line)[0] <= 380 for line in lines)


def test_fit_text_shrinks_and_wraps_and_reports_overflow():
    pygame.font.init()
    fonts = Fonts()
    text = "Zażółć gęślą jaźń " * 6
    font, lines, fits = fit_text(fonts, text, (300, 200), 40, 10)
    assert fits and len(lines) > 1 and font.get_height() < fonts.get(40).get_height()
    _, _, fits = fit_text(fonts, text * 20, (100, 30), 40, 10)
    assert not fits
    cache = TextCache(fonts)
    from edge.ui import widgets

    widgets.OVERFLOWS.clear()
    cache.block(text * 20, (100, 30), (0, 0, 0), 40)
    assert len(widgets.OVERFLOWS) == 1
    widgets.OVERFLOWS.clear()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_font_has_every_character_the_content_uses(lang):
    fonts = Fonts()
    chars = sorted(set("".join(_texts(load_language(lang)))) | set("·×?…") - {"\n", " "})
    missing = [c for c, m in zip(chars, fonts.get(24).metrics("".join(chars))) if m is None]
    missing += [c for c, m in zip(chars, fonts.get(24, bold=False).metrics("".join(chars))) if m is None]
    assert missing == []


def test_text_cache_stays_within_its_byte_budget():
    """Texts that change every second (timers) must not grow memory for the whole day."""
    pygame.font.init()
    cache = TextCache(Fonts(), budget_bytes=2 * 2**20)
    for second in range(300):
        cache.block(f"{second // 60}:{second % 60:02d}", (600, 200), (0, 0, 0), 80)
        assert cache.bytes <= 2 * 2**20
    assert 0 < len(cache._items) < 300
    assert cache.bytes == sum(s.get_pitch() * s.get_height() for s in cache._items.values())
