"""Sadness: a gentle chat with Droplet offering breathing, kind words or a short guided journey."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pygame

from edge.ui.art import draw_character
from edge.ui.scenes.base import Scene
from edge.ui.widgets import WHITE, darken, lighten

BREATH_S = 4.0  # in 4 s, out 4 s: gentler than the anger session
BREATHS = 3
MEDITATION_STEP_S = 7.0


class SupportBot:
    """The chat's state machine, separate from drawing so it can be tested."""

    def __init__(self, affirmation_count: int, meditation_steps: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.mode = "menu"  # menu | breathing | affirmation | meditation | goodbye
        self.messages: list[tuple[str, str]] = [("bot", "sadness.support.greeting"), ("bot", "sadness.support.ask")]
        self.affirmation_count = affirmation_count
        self.meditation_steps = meditation_steps
        self.clock = 0.0
        self.last_affirmation = -1

    def say(self, who: str, key: str) -> None:
        self.messages.append((who, key))
        del self.messages[:-3]  # the screen shows the three newest bubbles

    def choose(self, option: str) -> None:
        self.clock = 0.0
        if option == "breathing":
            self.say("me", "sadness.support.breathing")
            self.say("bot", "sadness.support.breathing_intro")
            self.mode = "breathing"
        elif option in ("affirmation", "another"):
            self.say("me", f"sadness.support.{option}")
            choices = [i for i in range(self.affirmation_count) if i != self.last_affirmation]
            self.last_affirmation = int(self.rng.choice(choices))
            self.say("bot", f"sadness.support.affirmations.{self.last_affirmation}")
            self.mode = "affirmation"
        elif option == "meditation":
            self.say("me", "sadness.support.meditation")
            self.say("bot", "sadness.support.meditation_intro")
            self.mode = "meditation"
        elif option == "menu":
            self.say("bot", "sadness.support.ask")
            self.mode = "menu"
        elif option == "better":
            self.say("me", "sadness.support.better")
            self.say("bot", "sadness.support.goodbye")
            self.mode = "goodbye"

    def update(self, dt: float) -> None:
        self.clock += dt
        if self.mode == "breathing" and self.clock >= BREATHS * 2 * BREATH_S:
            self.say("bot", "sadness.support.breathing_done")
            self.say("bot", "sadness.support.ask")
            self.mode = "menu"
        elif self.mode == "meditation":
            step = int(self.clock // MEDITATION_STEP_S)
            if step >= self.meditation_steps:
                self.say("bot", "sadness.support.meditation_done")
                self.say("bot", "sadness.support.ask")
                self.mode = "menu"
            elif ("bot", f"sadness.support.meditation_steps.{step}") not in self.messages:
                self.say("bot", f"sadness.support.meditation_steps.{step}")

    def options(self) -> list[str]:
        return {
            "menu": ["breathing", "affirmation", "meditation", "better"],
            "affirmation": ["another", "menu", "better"],
            "breathing": ["better"],
            "meditation": ["better"],
            "goodbye": ["finish"],
        }[self.mode]


class SupportScene(Scene):
    name = "support"

    def __init__(self, app, emotion: str = "sad", **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = "sad"
        c = app.content
        self.bot = SupportBot(len(c.get("sadness.support.affirmations")),
                              len(c.get("sadness.support.meditation_steps")), app.new_seed())

    @property
    def music(self) -> str | None:
        return "sad"

    def update(self, dt: float) -> None:
        super().update(dt)
        self.bot.update(dt)

    def on_button(self, action: str) -> None:
        if action == "finish":
            self.finish_to_closing()
        else:
            self.bot.choose(action)

    def on_pick(self, index: int) -> None:
        options = self.bot.options()
        if 0 <= index < len(options):
            self.on_button(options[index])

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        self.title(surface, self.tr("sadness.support.title"))
        draw_character(surface, "sad", (lay.w * 0.12, lay.h * 0.36), lay.h * 0.32, self.t)
        chat = lay.rect(0.24, 0.16, 0.72, 0.5)
        gap = lay.px(8)
        bh = (chat.h - 2 * gap) // 3
        for i, (who, key) in enumerate(self.bot.messages[-3:]):
            mine = who == "me"
            rect = pygame.Rect(chat.x + (int(chat.w * 0.25) if mine else 0), chat.y + i * (bh + gap),
                               int(chat.w * 0.75), bh)
            pygame.draw.rect(surface, lighten(self.color, 0.45) if mine else WHITE, rect, border_radius=lay.px(18))
            self.text(surface, self.tr(key), rect.inflate(-lay.px(24), -lay.px(10)), 21, bold=not mine)
        if self.bot.mode == "breathing":
            phase = (self.bot.clock % (2 * BREATH_S)) / (2 * BREATH_S)
            size = 0.5 - 0.5 * math.cos(2 * math.pi * phase)
            c = (int(lay.w * 0.12), int(lay.h * 0.78))
            pygame.draw.circle(surface, lighten(self.color, 0.3), c, int(lay.px(18) + lay.px(44) * size))
            label = self.tr("sadness.support.breathe_in" if phase < 0.5 else "sadness.support.breathe_out")
            self.text(surface, label, pygame.Rect(0, int(lay.h * 0.92), int(lay.w * 0.24), lay.px(30)), 18,
                      darken(self.color, 0.5))
        options = self.bot.options()
        area = lay.rect(0.24, 0.7, 0.72, 0.27)
        cols = 2 if len(options) > 1 else 1
        rows = math.ceil(len(options) / cols)
        gw, gh = lay.px(10), lay.px(8)
        w = (area.w - gw * (cols - 1)) // cols
        h = min(lay.px(64), (area.h - gh * (rows - 1)) // rows)
        area.y = area.bottom - (h * rows + gh * (rows - 1))
        for i, opt in enumerate(options):
            rect = pygame.Rect(area.x + (i % cols) * (w + gw), area.y + (i // cols) * (h + gh), w, h)
            label = self.tr("common.finish") if opt == "finish" else self.tr(f"sadness.support.{opt}")
            strong = opt in ("better", "finish")
            self.button(rect, label, opt, self.color if strong else WHITE, 22, WHITE if strong else darken(
                self.color, 0.6))
        self.draw_buttons(surface)

    def screenshot_steps(self) -> Iterator[str]:
        yield "menu"
        self.bot.choose("breathing")
        self.bot.update(BREATH_S * 0.7)
        yield "breathing"
        self.bot.choose("affirmation")
        yield "affirmation"
        self.bot.choose("meditation")
        self.bot.update(MEDITATION_STEP_S * 1.5)
        yield "meditation"
        self.bot.choose("better")
        yield "goodbye"
