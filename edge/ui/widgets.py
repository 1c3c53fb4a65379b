"""Drawing building blocks: fonts, text that always fits its box, rounded buttons, layout scaling.

Everything is sized from `Layout.u` (1.0 at 800×480) so the same scene code works from the
7" touchscreen to 1920×1080. Rendered text is cached: re-rendering at 30 FPS is the costliest
thing a Pi does here.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path

import pygame

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
BOLD_FONT = FONT_DIR / "Quicksand-Bold.ttf"
BODY_FONT = FONT_DIR / "Quicksand-Medium.ttf"

INK = (40, 44, 62)
WHITE = (255, 255, 255)
PAPER = (250, 247, 240)

# Texts that did not fit even at the smallest size (tests assert this stays empty); the newest 100.
OVERFLOWS: deque[str] = deque(maxlen=100)


class FontError(Exception):
    """A missing or broken font file; one-line message."""


class Fonts:
    """Cached pygame fonts in the bundled OFL typeface (covers Polish diacritics)."""

    def __init__(self, bold: Path = BOLD_FONT, body: Path = BODY_FONT):
        if not pygame.font.get_init():
            pygame.font.init()
        self._paths = {True: Path(bold), False: Path(body)}
        self._cache: dict[tuple[int, bool], pygame.font.Font] = {}
        for path in self._paths.values():
            try:
                font = pygame.font.Font(str(path), 24)
                if font.metrics("ąęłżźćńóś")[0] is None:  # what a broken or wrong-script font returns
                    raise FontError(f"font {path} has no Polish letters")
            except (OSError, pygame.error) as err:
                raise FontError(f"cannot load font {path}: {err}") from None

    def get(self, size: int, bold: bool = True) -> pygame.font.Font:
        size = max(6, int(size))
        key = (size, bold)
        if key not in self._cache:
            self._cache[key] = pygame.font.Font(str(self._paths[bold]), size)
        return self._cache[key]


def wrap(font: pygame.font.Font, text: str, width: int) -> list[str]:
    """Greedy word wrap; explicit newlines start new paragraphs. A word wider than the box stays whole
    (the caller then shrinks the font)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.size(candidate)[0] <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def fit_text(fonts: Fonts, text: str, size: tuple[int, int], max_px: int, min_px: int = 10,
             bold: bool = True) -> tuple[pygame.font.Font, list[str], bool]:
    """Largest font ≤ max_px at which the wrapped text fits `size`; returns (font, lines, fits)."""
    width, height = size
    px = max(max_px, min_px)
    while True:
        font = fonts.get(px, bold)
        lines = wrap(font, text, width)
        line_h = font.get_linesize()
        fits = all(font.size(line)[0] <= width for line in lines) and line_h * len(lines) <= height
        if fits or px <= min_px:
            return font, lines, fits
        px = max(min_px, int(px * 0.9))


class TextCache:
    """LRU cache of rendered text blocks keyed by everything that affects the pixels.

    Bounded by count and by bytes: a full-width title block is ~1 MB, and texts that change every
    second (counters, timers) would otherwise fill it with hundreds of them over a day.
    """

    def __init__(self, fonts: Fonts, capacity: int = 400, budget_bytes: int = 16 * 2**20):
        self.fonts = fonts
        self.capacity, self.budget_bytes = capacity, budget_bytes
        self._items: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self.bytes = 0

    def block(self, text: str, size: tuple[int, int], color: tuple[int, int, int], max_px: int,
              bold: bool = True, align: str = "center", min_px: int | None = None) -> pygame.Surface:
        key = (text, size, color, max_px, bold, align, min_px)
        surf = self._items.get(key)
        if surf is not None:
            self._items.move_to_end(key)
            return surf
        floor = min_px if min_px is not None else max(9, max_px // 3)
        font, lines, fits = fit_text(self.fonts, text, size, max_px, floor, bold)
        if not fits:
            OVERFLOWS.append(f"{text[:60]!r} in {size[0]}x{size[1]}")
            log.warning("text does not fit its box %sx%s: %r", size[0], size[1], text[:60])
        line_h = font.get_linesize()
        rendered = [font.render(line, True, color) for line in lines]
        surf = pygame.Surface((size[0], min(size[1], line_h * len(lines))), pygame.SRCALPHA)
        for i, img in enumerate(rendered):
            x = {"left": 0, "right": size[0] - img.get_width()}.get(align, (size[0] - img.get_width()) // 2)
            surf.blit(img, (x, i * line_h))
        self._items[key] = surf
        self.bytes += _surface_bytes(surf)
        while len(self._items) > 1 and (len(self._items) > self.capacity or self.bytes > self.budget_bytes):
            self.bytes -= _surface_bytes(self._items.popitem(last=False)[1])
        return surf


def _surface_bytes(surf: pygame.Surface) -> int:
    return surf.get_pitch() * surf.get_height()


class Layout:
    """Screen geometry in units: u = 1 at 800×480. Fractions place things, units size them."""

    def __init__(self, size: tuple[int, int]):
        self.w, self.h = size
        self.u = min(self.w / 800, self.h / 480)

    def px(self, units: float) -> int:
        return max(1, int(round(units * self.u)))

    def rect(self, fx: float, fy: float, fw: float, fh: float) -> pygame.Rect:
        return pygame.Rect(int(fx * self.w), int(fy * self.h), int(fw * self.w), int(fh * self.h))


def draw_text(surface: pygame.Surface, cache: TextCache, text: str, rect: pygame.Rect,
              color: tuple[int, int, int] = INK, max_px: int = 32, bold: bool = True, align: str = "center",
              valign: str = "center") -> pygame.Rect:
    block = cache.block(text, (max(1, rect.w), max(1, rect.h)), color, max_px, bold, align)
    y = rect.y if valign == "top" else rect.y + (rect.h - block.get_height()) // 2
    return surface.blit(block, (rect.x, y))


def lighten(color: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(int(c + (255 - c) * amount) for c in color)  # type: ignore[return-value]


def darken(color: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(int(c * (1 - amount)) for c in color)  # type: ignore[return-value]


def rounded(surface: pygame.Surface, color, rect: pygame.Rect, radius: int, shadow: int = 0) -> None:
    if shadow:
        pygame.draw.rect(surface, darken(color, 0.35) if len(color) == 3 else (0, 0, 0),
                         rect.move(0, shadow), border_radius=radius)
    pygame.draw.rect(surface, color, rect, border_radius=radius)


_BACKGROUNDS: dict[tuple, pygame.Surface] = {}


def background(size: tuple[int, int], color: tuple[int, int, int]) -> pygame.Surface:
    """A soft vertical gradient tinted with the emotion's colour (cached per size and colour)."""
    key = (size, color)
    if key not in _BACKGROUNDS:
        surf = pygame.Surface(size)
        top, bottom = lighten(color, 0.82), lighten(color, 0.55)
        for y in range(size[1]):
            a = y / max(1, size[1] - 1)
            surf.fill(tuple(int(t + (b - t) * a) for t, b in zip(top, bottom)), (0, y, size[0], 1))
        if len(_BACKGROUNDS) > 32:
            _BACKGROUNDS.clear()
        _BACKGROUNDS[key] = surf
    return _BACKGROUNDS[key]


@dataclass
class Button:
    """A big rounded touch target. `action` is what the scene receives when it is tapped."""

    rect: pygame.Rect
    label: str
    action: str
    color: tuple[int, int, int] = (255, 255, 255)
    text_color: tuple[int, int, int] = INK
    max_px: int = 30
    pressed: bool = False

    def hit(self, pos: tuple[int, int]) -> bool:
        return self.rect.collidepoint(pos)

    def draw(self, surface: pygame.Surface, cache: TextCache, layout: Layout) -> None:
        radius = min(self.rect.h // 2, layout.px(28))
        shadow = 0 if self.pressed else layout.px(5)
        rect = self.rect.move(0, layout.px(3)) if self.pressed else self.rect
        rounded(surface, self.color, rect, radius, shadow)
        pad = max(layout.px(10), radius // 2)
        inner = rect.inflate(-2 * pad, -layout.px(8))
        draw_text(surface, cache, self.label, inner, self.text_color, layout.px(self.max_px))


def bar(surface: pygame.Surface, rect: pygame.Rect, fraction: float, color, back=(255, 255, 255)) -> None:
    radius = rect.h // 2
    pygame.draw.rect(surface, back, rect, border_radius=radius)
    fill = rect.copy()
    fill.w = max(rect.h, int(rect.w * max(0.0, min(1.0, fraction))))
    pygame.draw.rect(surface, color, fill, border_radius=radius)


def qr_surface(text: str, size: int) -> pygame.Surface | None:
    """A QR code of `text` (only the score sentence), or None when segno is not installed."""
    try:
        import segno  # lazy: optional dependency
    except ImportError:
        return None
    qr = segno.make(text, error="m", micro=False)
    rows = list(qr.matrix)
    border = 2
    n = len(rows) + 2 * border
    cell = max(1, size // n)
    surf = pygame.Surface((cell * n, cell * n))
    surf.fill(WHITE)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                surf.fill(INK, ((x + border) * cell, (y + border) * cell, cell, cell))
    return surf
