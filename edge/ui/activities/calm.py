"""Neutral and surprise: no dedicated game. Say so kindly; offer a calm moment or another emotion's game."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pygame

from edge.labels import COLOURS
from edge.ui.art import Particles, draw_character
from edge.ui.scenes.base import Scene
from edge.ui.widgets import WHITE, darken

MOMENT_S = 30.0


class CalmScene(Scene):
    name = "calm"

    def __init__(self, app, emotion: str = "neutral", **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = emotion if emotion in ("neutral", "surprise") else "neutral"
        self.stage = "offer"
        self.bubbles = Particles(26, COLOURS["sad"], seed=4, speed=0.05, ring=True)

    @property
    def music(self) -> str | None:
        return self.emotion

    def update(self, dt: float) -> None:
        super().update(dt)
        self.bubbles.update(dt)
        if self.stage == "moment" and self.t >= MOMENT_S:
            self.finish_to_closing()

    def on_button(self, action: str) -> None:
        if action == "moment":
            self.stage = "moment"
            self.t = 0.0
        elif action == "pick":
            self.app.go("chooser")
        elif action == "finish":
            self.finish_to_closing()

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        name = self.tr(f"emotions.{self.emotion}")
        if self.stage == "offer":
            draw_character(surface, self.emotion, (lay.w * 0.22, lay.h * 0.52), lay.h * 0.6, self.t)
            self.text(surface, self.tr("calm.calm.title", emotion=name), lay.rect(0.42, 0.06, 0.55, 0.14), 40,
                      darken(self.color, 0.55))
            card = lay.rect(0.42, 0.22, 0.55, 0.38)
            self.panel(surface, card)
            text = self.tr("calm.calm.text", emotion=name.lower())
            self.text(surface, text, card.inflate(-lay.px(24), -lay.px(18)), 24)
            self.button(lay.rect(0.42, 0.65, 0.55, 0.14), self.tr("calm.calm.calm_button"), "moment", self.color, 28)
            self.button(lay.rect(0.42, 0.82, 0.55, 0.13), self.tr("calm.calm.pick_button"), "pick", WHITE, 24)
        else:
            self.bubbles.draw(surface)
            self.title(surface, self.tr("calm.calm.moment_title"))
            draw_character(surface, self.emotion, (lay.w * 0.5, lay.h * 0.5), lay.h * 0.45, self.t * 0.5)
            self.text(surface, self.tr("calm.calm.moment_text"), lay.rect(0.1, 0.74, 0.8, 0.09), 24, bold=False)
            self.button(lay.rect(0.35, 0.85, 0.3, 0.12), self.tr("common.done"), "finish", WHITE, 24)
        self.draw_buttons(surface)

    def screenshot_steps(self) -> Iterator[str]:
        yield "offer"
        self.stage = "moment"
        self.t = 3.0
        yield "moment"
