"""The statistics chart drawn with pygame (part of the edge install), not matplotlib (which is not): stacked
bars of shown emotions per hour of day, with axis labels and a legend, saved as PNG. No display needed."""

from __future__ import annotations

import os
from pathlib import Path

from edge.labels import COLOURS, EMOTIONS

SIZE = (1000, 500)
MARGIN = (70, 50, 150, 50)  # left, top, right (legend), bottom
BACKGROUND, INK, GRID = (255, 255, 255), (30, 30, 30), (225, 225, 225)
FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "Quicksand-Medium.ttf"


class ChartError(Exception):
    """The chart cannot be drawn or written; one line."""


def nice_step(top: int, ticks: int = 5) -> int:
    """A round grid step (1, 2, 5, 10, 20, 50…) giving about `ticks` lines up to `top`."""
    raw, base = max(1, top) / ticks, 1
    while True:
        for m in (1, 2, 5):
            if base * m >= raw:
                return base * m
        base *= 10


def bar_rects(hours: dict[int, dict[str, int]], size: tuple[int, int] = SIZE
              ) -> tuple[list[tuple[str, tuple[int, int, int, int]]], int]:
    """(emotion, (x, y, w, h)) for every non-empty bar segment, bottom up, and the y-axis maximum.
    Pure geometry, so the layout can be checked without looking at pixels."""
    left, top, right, bottom = MARGIN
    plot_w, plot_h = size[0] - left - right, size[1] - top - bottom
    totals = [sum(hours.get(h, {}).values()) for h in range(24)]
    step = nice_step(max(totals))
    y_max = max(step, -(-max(totals) // step) * step)
    slot = plot_w / 24
    out = []
    for h in range(24):
        y = size[1] - bottom
        for emotion in EMOTIONS:
            count = hours.get(h, {}).get(emotion, 0)
            if count <= 0:
                continue
            height = round(count / y_max * plot_h)
            x = round(left + h * slot + slot * 0.15)
            out.append((emotion, (x, y - height, max(1, round(slot * 0.7)), height)))
            y -= height
    return out, y_max


def draw_chart(hours: dict[int, dict[str, int]], title: str, out: Path, size: tuple[int, int] = SIZE) -> None:
    """Write the chart for `hours` (hour of day → emotion → count) to the PNG file `out`."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame
    import pygame.freetype

    pygame.freetype.init()
    try:
        font = pygame.freetype.Font(str(FONT) if FONT.is_file() else None, 14)
    except (OSError, pygame.error) as err:
        raise ChartError(f"cannot load the chart font {FONT}: {err}") from None
    left, top, right, bottom = MARGIN
    surface = pygame.Surface(size)
    surface.fill(BACKGROUND)
    bars, y_max = bar_rects(hours, size)
    plot_h, base_y = size[1] - top - bottom, size[1] - bottom
    step = nice_step(y_max)
    for value in range(0, y_max + 1, step):  # grid and y labels
        y = base_y - round(value / y_max * plot_h)
        pygame.draw.line(surface, GRID, (left, y), (size[0] - right, y))
        rect = font.get_rect(str(value))
        font.render_to(surface, (left - 8 - rect.width, y - rect.height // 2), str(value), INK)
    for emotion, rect in bars:
        pygame.draw.rect(surface, COLOURS[emotion], rect)
    pygame.draw.line(surface, INK, (left, base_y), (size[0] - right, base_y), 2)
    slot = (size[0] - left - right) / 24
    for h in range(24):
        label = str(h)
        rect = font.get_rect(label)
        font.render_to(surface, (round(left + (h + 0.5) * slot - rect.width / 2), base_y + 8), label, INK)
    font.render_to(surface, (left, size[1] - 20), "hour of day", INK)
    font.render_to(surface, (8, top - 30), "count", INK)
    font.render_to(surface, (left, 14), title, INK, size=18)
    for i, emotion in enumerate(EMOTIONS):  # legend
        y = top + i * 24
        pygame.draw.rect(surface, COLOURS[emotion], (size[0] - right + 20, y, 16, 16))
        font.render_to(surface, (size[0] - right + 44, y + 1), emotion, INK)
    try:
        with open(out, "wb") as f:
            pygame.image.save(surface, f, "chart.png")  # PNG whatever the file's name ends with
    except OSError as err:
        raise ChartError(f"{out}: cannot write chart ({err.strerror or err})") from None
    except pygame.error as err:
        raise ChartError(f"{out}: cannot write chart ({err})") from None
