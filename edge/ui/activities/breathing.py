"""Anger: a guided cool-down breathing session (inhale → hold → exhale) with rising red embers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pygame

from edge.labels import COLOURS
from edge.ui.art import Particles, draw_character
from edge.ui.scenes.base import Scene
from edge.ui.widgets import WHITE, bar, darken, lighten


@dataclass(frozen=True)
class BreathingPlan:
    inhale_s: float = 4.0
    hold_s: float = 2.0
    exhale_s: float = 4.0
    total_s: float = 180.0

    @property
    def cycle_s(self) -> float:
        return self.inhale_s + self.hold_s + self.exhale_s

    def phase_at(self, t: float) -> tuple[str, float, int]:
        """(phase, progress 0..1 within it, breath number from 1) at time t seconds."""
        t = max(0.0, t)
        n = int(t // self.cycle_s)
        r = t - n * self.cycle_s
        if r < self.inhale_s:
            return "inhale", r / self.inhale_s, n + 1
        r -= self.inhale_s
        if r < self.hold_s:
            return "hold", r / self.hold_s if self.hold_s else 1.0, n + 1
        r -= self.hold_s
        return "exhale", min(1.0, r / self.exhale_s), n + 1

    def size_at(self, t: float) -> float:
        """Guide shape size 0..1: grows while inhaling, stays, shrinks while exhaling (eased)."""
        phase, p, _ = self.phase_at(t)
        ease = 0.5 - 0.5 * math.cos(math.pi * p)
        return {"inhale": ease, "hold": 1.0, "exhale": 1.0 - ease}[phase]

    def done(self, t: float) -> bool:
        # finish on a whole breath so the session never stops mid-inhale
        return t >= math.ceil(self.total_s / self.cycle_s) * self.cycle_s


class BreathingScene(Scene):
    name = "breathing"

    def __init__(self, app, emotion: str = "angry", **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = "angry"
        a = app.config.activities
        self.plan = BreathingPlan(a.breathing_inhale_s, a.breathing_hold_s, a.breathing_exhale_s,
                                  a.breathing_minutes * 60)
        self.stage = "intro"
        self.elapsed = 0.0
        self.embers = Particles(40, COLOURS["angry"], seed=1, speed=0.06)

    @property
    def music(self) -> str | None:
        return "angry"

    def update(self, dt: float) -> None:
        super().update(dt)
        self.embers.update(dt)
        if self.stage == "intro" and self.t > 6.0:
            self.stage = "breathe"
        elif self.stage == "breathe":
            self.elapsed += dt
            if self.plan.done(self.elapsed):
                self.stage = "done"
                self.t = 0.0
        elif self.stage == "done" and self.t > 12.0:
            self.finish_to_closing()

    def on_button(self, action: str) -> None:
        if action == "start":
            self.stage = "breathe"
        elif action == "stop":
            self.stage = "done"
            self.t = 0.0
        elif action == "finish":
            self.finish_to_closing()

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        self.embers.draw(surface)
        self.title(surface, self.tr("anger.breathing.title"))
        if self.stage == "intro":
            draw_character(surface, "angry", (lay.w * 0.25, lay.h * 0.55), lay.h * 0.55, self.t)
            card = lay.rect(0.47, 0.22, 0.49, 0.4)
            self.panel(surface, card)
            self.text(surface, self.tr("anger.breathing.intro"), card.inflate(-lay.px(24), -lay.px(20)), 26)
            self.button(lay.rect(0.52, 0.7, 0.4, 0.15), self.tr("common.next"), "start", self.color, 30)
        elif self.stage == "breathe":
            phase, p, n = self.plan.phase_at(self.elapsed)
            size = self.plan.size_at(self.elapsed)
            c = (int(lay.w * 0.5), int(lay.h * 0.5))
            r_min, r_max = lay.px(50), lay.px(150)
            r = int(r_min + (r_max - r_min) * size)
            glow = pygame.Surface((r_max * 2 + 40, r_max * 2 + 40), pygame.SRCALPHA)
            pygame.draw.circle(glow, (*lighten(self.color, 0.5), 90), glow.get_rect().center, r + lay.px(18))
            surface.blit(glow, glow.get_rect(center=c))
            pygame.draw.circle(surface, lighten(self.color, 0.15 + 0.4 * size), c, r)
            pygame.draw.circle(surface, WHITE, c, r, lay.px(4))
            self.text(surface, self.tr(f"anger.breathing.{phase}"), pygame.Rect(c[0] - lay.px(140), c[1] - lay.px(40),
                                                                          lay.px(280), lay.px(80)), 40,
                      darken(self.color, 0.65))
            left = max(0, int(math.ceil(self.plan.total_s - self.elapsed)))
            info = f"{self.tr('anger.breathing.breath', n=n)}  ·  " + self.tr(
                "anger.breathing.remaining", minutes=left // 60, seconds=f"{left % 60:02d}")
            self.text(surface, info, lay.rect(0.05, 0.15, 0.9, 0.08), 20, darken(self.color, 0.6), bold=False)
            bar(surface, lay.rect(0.25, 0.88, 0.2, 0.035), p, darken(self.color, 0.2))
            self.button(lay.rect(0.55, 0.84, 0.41, 0.13), self.tr("anger.breathing.stop"), "stop", WHITE, 22)
        else:
            draw_character(surface, "angry", (lay.w * 0.25, lay.h * 0.55), lay.h * 0.5, self.t * 0.3)
            card = lay.rect(0.47, 0.22, 0.49, 0.4)
            self.panel(surface, card)
            self.text(surface, self.tr("anger.breathing.done"), card.inflate(-lay.px(24), -lay.px(20)), 26)
            self.button(lay.rect(0.52, 0.7, 0.4, 0.15), self.tr("common.finish"), "finish", self.color, 30)
        self.draw_buttons(surface)

    def screenshot_steps(self) -> Iterator[str]:
        yield "intro"
        self.stage = "breathe"
        for phase, at in (("inhale", self.plan.inhale_s * 0.6), ("hold", self.plan.inhale_s + 0.5),
                          ("exhale", self.plan.cycle_s - 1.0)):
            self.elapsed = at
            yield phase
        self.stage = "done"
        yield "done"
