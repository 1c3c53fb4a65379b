"""Disgust: a playful ink blot "test" with blots generated fresh for every visit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pygame

from edge.ui.art import blot_surface, generate_blot
from edge.ui.scenes.base import Scene
from edge.ui.widgets import WHITE, darken, lighten

ROUNDS = 3
CHOICES = 4


class RorschachGame:
    """Seeded plan of a visit: the blot seeds and the options offered each round; the picks made."""

    def __init__(self, option_ids: list[str], seed: int, rounds: int = ROUNDS, choices: int = CHOICES):
        rng = np.random.default_rng(seed)
        self.seeds = [int(s) for s in rng.integers(0, 2**31 - 1, rounds)]
        self.offers = [list(rng.choice(len(option_ids), min(choices, len(option_ids)), replace=False))
                       for _ in range(rounds)]
        self.option_ids = option_ids
        self.picks: list[int] = []

    @property
    def round(self) -> int:
        return len(self.picks)

    @property
    def finished(self) -> bool:
        return self.round >= len(self.seeds)

    def pick(self, choice: int) -> None:
        if not self.finished and 0 <= choice < len(self.offers[self.round]):
            self.picks.append(int(self.offers[self.round][choice]))


class RorschachScene(Scene):
    name = "rorschach"

    def __init__(self, app, emotion: str = "disgust", seed: int | None = None, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = "disgust"
        options = self.options
        if len(options) < CHOICES:
            from edge.ui.i18n import ContentError

            raise ContentError(f"disgust.toml needs at least {CHOICES} rorschach options")
        self.game = RorschachGame([o["id"] for o in options], seed if seed is not None else app.new_seed())
        self._blot_cache: dict[tuple[int, tuple[int, int]], pygame.Surface] = {}

    @property
    def music(self) -> str | None:
        return "disgust"

    @property
    def options(self) -> list[dict[str, str]]:
        return self.app.content.get("disgust.rorschach.options")

    def blot(self, size: tuple[int, int]) -> pygame.Surface:
        key = (self.game.seeds[self.game.round], size)
        if key not in self._blot_cache:
            # render small then scale: cheap on a Pi, and the blur of scaling softens the ink edge
            small = generate_blot(key[0], (size[0] // 2, size[1] // 2))
            self._blot_cache = {key: pygame.transform.smoothscale(blot_surface(small), size)}
        return self._blot_cache[key]

    def on_button(self, action: str) -> None:
        if action.startswith("opt"):
            self.game.pick(int(action[3:]))
        elif action == "finish":
            self.finish_to_closing()

    def on_pick(self, index: int) -> None:
        if not self.game.finished:
            self.game.pick(index)

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        self.title(surface, self.tr("disgust.rorschach.title"))
        opts = self.options
        if not self.game.finished:
            card = lay.rect(0.04, 0.17, 0.5, 0.78)
            pygame.draw.rect(surface, darken(self.color, 0.3), card.move(0, lay.px(6)), border_radius=lay.px(20))
            pygame.draw.rect(surface, (250, 247, 240), card, border_radius=lay.px(20))
            pulse = 1 + 0.015 * np.sin(self.t * 2)
            size = (int(card.w * 0.9 * pulse), int(card.h * 0.86 * pulse))
            img = self.blot(size)
            surface.blit(img, img.get_rect(center=card.center))
            right = lay.rect(0.58, 0.17, 0.38, 0.8)
            self.text(surface, self.tr("disgust.rorschach.round", n=self.game.round + 1, total=len(self.game.seeds)),
                      pygame.Rect(right.x, right.y, right.w, lay.px(30)), 18, darken(self.color, 0.5), bold=False)
            self.text(surface, self.tr("disgust.rorschach.question"),
                      pygame.Rect(right.x, right.y + lay.px(30), right.w, lay.px(50)), 30, darken(self.color, 0.6))
            offer = self.game.offers[self.game.round]
            gap = lay.px(10)
            top = right.y + lay.px(90)
            h = (right.bottom - top - gap * (len(offer) - 1)) // len(offer)
            for i, idx in enumerate(offer):
                self.button(pygame.Rect(right.x, top + i * (h + gap), right.w, h), opts[idx]["text"], f"opt{i}",
                            lighten(self.color, 0.5), 24)
        else:
            card = lay.rect(0.06, 0.17, 0.88, 0.58)
            self.panel(surface, card, 235)
            inner = card.inflate(-lay.px(30), -lay.px(20))
            self.text(surface, self.tr("disgust.rorschach.summary_title"),
                      pygame.Rect(inner.x, inner.y, inner.w, lay.px(44)), 28, darken(self.color, 0.5))
            lines = [opts[i]["summary"] for i in dict.fromkeys(self.game.picks)]  # each answer once, in order
            h = (inner.h - lay.px(50)) // max(1, len(lines))
            for i, line in enumerate(lines):
                self.text(surface, "• " + line, pygame.Rect(inner.x, inner.y + lay.px(50) + i * h, inner.w, h), 22,
                          bold=False)
            self.button(lay.rect(0.3, 0.8, 0.4, 0.15), self.tr("disgust.rorschach.done"), "finish", self.color, 30,
                        WHITE)
        self.draw_buttons(surface)

    def screenshot_steps(self) -> Iterator[str]:
        yield "blot1"
        self.game.pick(0)
        yield "blot2"
        self.game.pick(1)
        self.game.pick(2)
        yield "summary"
