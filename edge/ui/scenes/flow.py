"""The visitor flow around the activities: Attract → Recognizing → Result (or Chooser) → … → Closing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pygame

from edge.labels import COLOURS, EMOTIONS
from edge.types import Decision
from edge.ui.art import draw_character
from edge.ui.i18n import ContentError
from edge.ui.scenes.base import ACTIVITY_FOR, Preview, Scene
from edge.ui.widgets import INK, WHITE, bar, darken, lighten

ATTRACT_PARADE = ("happy", "sad", "angry", "fear", "disgust", "surprise", "neutral")


class Attract(Scene):
    """Mirrored preview with the face box, privacy notice, the big button and the language switch."""

    name = "attract"

    def __init__(self, app, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.preview = Preview()

    def on_button(self, action: str) -> None:
        if action == "recognize":
            self.app.go("recognizing")
        elif action == "choose":
            self.app.go("chooser")
        elif action == "language":
            self.app.toggle_language()

    def on_pick(self, index: int) -> None:
        self.app.go(ACTIVITY_FOR[EMOTIONS[index]], emotion=EMOTIONS[index])

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        frame, result = self.live_view()
        prev = lay.rect(0.035, 0.06, 0.5, 0.7)
        self.preview.draw(surface, prev, frame, result, self.color, lay, self.camera_placeholder(),
                          self.app.text_cache)
        if frame is not None:
            seen = result is not None and result.face_count > 0
            tag = lay.rect(0.035, 0.06, 0.5, 0.1).inflate(-lay.px(40), -lay.px(8))
            tag.h = lay.px(36)
            tag.y = prev.bottom - tag.h - lay.px(12)
            pill = pygame.Rect(0, 0, min(tag.w, lay.px(260)), tag.h)
            pill.center = tag.center
            pygame.draw.rect(surface, (255, 255, 255) if seen else (255, 240, 200), pill, border_radius=tag.h // 2)
            self.text(surface, self.tr("attract.face_found" if seen else "attract.no_face"), pill.inflate(
                -lay.px(16), -lay.px(4)), 20)
        # the privacy notice under the preview
        self.text(surface, self.tr("attract.privacy"), lay.rect(0.035, 0.8, 0.5, 0.17), 16, darken(self.color, 0.6),
                  bold=False)
        right = lay.rect(0.57, 0.04, 0.4, 0.92)
        title = pygame.Rect(right.x, right.y + lay.px(44), right.w, lay.px(80))
        self.text(surface, self.tr("attract.title"), title, 40, darken(self.color, 0.6))
        self.text(surface, self.tr("attract.subtitle"), pygame.Rect(right.x, title.bottom, right.w, lay.px(60)), 20,
                  INK, bold=False)
        # the parade of friends
        y = title.bottom + lay.px(110)
        step = right.w / len(ATTRACT_PARADE)
        for i, emo in enumerate(ATTRACT_PARADE):
            draw_character(surface, emo, (right.x + step * (i + 0.5), y), step * 1.25, self.t + i * 0.7)
        pulse = 1 + 0.03 * math.sin(self.t * 4)
        big = pygame.Rect(0, 0, int(right.w * pulse), int(lay.px(84) * pulse))
        big.center = (right.centerx, right.y + int(right.h * 0.72))
        self.button(big, self.tr("attract.button"), "recognize", COLOURS["happy"], 32)
        small = pygame.Rect(0, 0, int(right.w * 0.8), lay.px(56))
        small.midtop = (right.centerx, big.bottom + lay.px(18))
        self.button(small, self.tr("attract.choose"), "choose", WHITE, 24)
        lang = pygame.Rect(0, 0, lay.px(130), lay.px(44))
        lang.topright = (lay.w - lay.px(14), lay.px(12))
        self.button(lang, self.tr("attract.language"), "language", lighten(self.color, 0.5), 20)
        self.draw_buttons(surface)


class Recognizing(Scene):
    """A short countdown over the live preview while the pipeline collects results, then decide()."""

    name = "recognizing"

    def __init__(self, app, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.preview = Preview()
        self.duration = max(0.5, float(app.config.recognize_seconds))
        self.decided = False

    def handle(self, action) -> None:
        if action.kind == "back":
            self.app.go("attract")

    def update(self, dt: float) -> None:
        super().update(dt)
        if self.t >= self.duration and not self.decided:
            self.decided = True
            decision = self.app.vision.decide(self.duration)
            self.app.decision_made(decision)
            self.app.go("result", decision=decision)

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.title(surface, self.tr("recognizing.title"))
        frame, result = self.live_view()
        prev = lay.rect(0.2, 0.18, 0.6, 0.7)
        self.preview.draw(surface, prev, frame, result, self.color, lay, self.camera_placeholder(),
                          self.app.text_cache)
        left = max(0.0, self.duration - self.t)
        ring = pygame.Rect(0, 0, lay.px(110), lay.px(110))
        ring.center = (prev.right - lay.px(10), prev.top + lay.px(10))
        pygame.draw.circle(surface, WHITE, ring.center, ring.w // 2)
        frac = left / self.duration
        if frac > 0:
            pygame.draw.arc(surface, COLOURS["happy"], ring.inflate(-lay.px(8), -lay.px(8)), math.pi / 2,
                            math.pi / 2 + 2 * math.pi * frac, lay.px(10))
        self.text(surface, str(math.ceil(left)) if left > 0 else "…", ring.inflate(-lay.px(30), -lay.px(30)), 46)
        self.text(surface, self.tr("recognizing.hint"), lay.rect(0.1, 0.89, 0.8, 0.1), 22)

    def screenshot_steps(self) -> Iterator[str]:
        self.t = self.duration * 0.4
        yield "countdown"


class Result(Scene):
    """The emotion's character, name and confidence; or the "not sure" offer."""

    name = "result"

    def __init__(self, app, decision: Decision | None = None, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.decision = decision or Decision(None, 0.0, {}, "no face")
        self.emotion = self.decision.emotion if self.decision.emotion in COLOURS else None

    @property
    def music(self) -> str | None:
        return "attract"

    def on_button(self, action: str) -> None:
        if action == "start" and self.emotion:
            self.app.go(ACTIVITY_FOR[self.emotion], emotion=self.emotion)
        elif action == "again":
            self.app.go("recognizing")
        elif action == "choose":
            self.app.go("chooser")

    def on_pick(self, index: int) -> None:
        self.app.go(ACTIVITY_FOR[EMOTIONS[index]], emotion=EMOTIONS[index])

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        left = lay.rect(0.03, 0.05, 0.4, 0.9)
        right = lay.rect(0.45, 0.06, 0.52, 0.88)
        if self.emotion:
            draw_character(surface, self.emotion, (left.centerx, left.centery), left.h * 0.75, self.t)
            self.text(surface, self.tr("result.title"), pygame.Rect(right.x, right.y, right.w, lay.px(50)), 26,
                      darken(self.color, 0.5))
            name = self.tr(f"emotions.{self.emotion}")
            self.text(surface, name, pygame.Rect(right.x, right.y + lay.px(50), right.w, lay.px(76)), 56,
                      darken(self.color, 0.55))
            friend = self.tr(f"characters.{self.emotion}")
            self.panel(surface, pygame.Rect(right.x, right.y + lay.px(135), right.w, lay.px(110)))
            self.text(surface, f"{friend}: {self.tr(f'intro.{self.emotion}')}",
                      pygame.Rect(right.x, right.y + lay.px(135), right.w, lay.px(110)).inflate(-lay.px(24),
                                                                                               -lay.px(14)), 22)
            self.text(surface, self.tr("result.confidence"), pygame.Rect(right.x, right.y + lay.px(255), right.w,
                                                                          lay.px(28)), 18, INK, bold=False,
                      align="left")
            barr = pygame.Rect(right.x, right.y + lay.px(285), right.w, lay.px(22))
            bar(surface, barr, self.decision.confidence, darken(self.color, 0.1))
            row = pygame.Rect(right.x, right.bottom - lay.px(76), right.w, lay.px(72))
            self.button(pygame.Rect(row.x, row.y, int(row.w * 0.58), row.h), self.tr("result.start"), "start",
                        self.color, 30)
            self.button(pygame.Rect(row.x + int(row.w * 0.62), row.y, int(row.w * 0.38), row.h),
                        self.tr("result.try_again"), "again", WHITE, 20)
        else:
            draw_character(surface, "neutral", (left.centerx, left.centery), left.h * 0.7, self.t)
            qm = pygame.Rect(0, 0, lay.px(80), lay.px(80))
            qm.center = (int(left.centerx + left.h * 0.28), int(left.centery - left.h * 0.3))
            pygame.draw.circle(surface, WHITE, qm.center, qm.w // 2)
            self.text(surface, "?", qm, 56, COLOURS["surprise"])
            self.text(surface, self.tr("result.not_sure_title"), pygame.Rect(right.x, right.y, right.w, lay.px(80)),
                      36, darken(self.color, 0.55))
            reason = self.decision.reason.replace(" ", "_") or "low_confidence"
            try:
                why = self.tr(f"result.reason_{reason}") + " "
            except ContentError:  # an unknown reason from a newer pipeline just shows no reason
                why = ""
            card = pygame.Rect(right.x, right.y + lay.px(90), right.w, lay.px(150))
            self.panel(surface, card)
            self.text(surface, why + self.tr("result.not_sure_text"), card.inflate(-lay.px(24), -lay.px(16)), 24)
            row = pygame.Rect(right.x, right.bottom - lay.px(160), right.w, lay.px(72))
            self.button(row, self.tr("result.try_again"), "again", COLOURS["happy"], 30)
            self.button(row.move(0, lay.px(88)), self.tr("result.choose"), "choose", WHITE, 26)
        self.draw_buttons(surface)


class Chooser(Scene):
    """All seven friends; tap one to play its game."""

    name = "chooser"

    def on_button(self, action: str) -> None:
        if action in ACTIVITY_FOR:
            self.app.go(ACTIVITY_FOR[action], emotion=action)
        elif action == "home":
            self.app.go("attract")

    def on_pick(self, index: int) -> None:
        self.on_button(EMOTIONS[index])

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        self.title(surface, self.tr("chooser.title"))
        self.text(surface, self.tr("chooser.subtitle"), lay.rect(0.1, 0.15, 0.8, 0.07), 20, INK, bold=False)
        order = ("happy", "sad", "angry", "fear", "disgust", "surprise", "neutral")
        rows = (order[:4], order[4:])
        card_w, card_h = lay.w * 0.21, lay.h * 0.34
        for r, row in enumerate(rows):
            total = len(row) * card_w + (len(row) - 1) * lay.w * 0.025
            x0 = (lay.w - total) / 2
            for i, emo in enumerate(row):
                rect = pygame.Rect(int(x0 + i * (card_w + lay.w * 0.025)), int(lay.h * (0.24 + r * 0.37)),
                                   int(card_w), int(card_h))
                self.button(rect, "", emo, lighten(COLOURS[emo], 0.35))
                self.buttons[-1].draw(surface, self.app.text_cache, lay)
                draw_character(surface, emo, (rect.centerx, rect.y + rect.h * 0.42), rect.h * 0.62, self.t + i)
                self.text(surface, self.tr(f"emotions.{emo}"), pygame.Rect(rect.x + lay.px(6),
                          rect.bottom - lay.px(40), rect.w - lay.px(12), lay.px(34)), 22, darken(COLOURS[emo], 0.6))
        home = pygame.Rect(lay.px(14), lay.px(12), lay.px(120), lay.px(44))
        self.button(home, self.tr("common.back"), "home", WHITE, 20)
        self.buttons[-1].draw(surface, self.app.text_cache, lay)

    def on_primary(self) -> None:
        self.app.go("attract")


class Closing(Scene):
    """Thanks; back to Attract by itself after a short while."""

    name = "closing"
    DURATION = 10.0

    def __init__(self, app, emotion: str | None = None, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = emotion if emotion in COLOURS else None

    @property
    def music(self) -> str | None:
        return "attract"

    def update(self, dt: float) -> None:
        super().update(dt)
        if self.t >= self.DURATION:
            self.app.go("attract")

    def on_button(self, action: str) -> None:
        self.app.go("attract")

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        rng = np.random.default_rng(3)
        for i in range(24):  # confetti
            x = rng.uniform(0, lay.w)
            y = (rng.uniform(0, lay.h) + self.t * lay.px(60) * rng.uniform(0.5, 1.5)) % lay.h
            col = COLOURS[EMOTIONS[i % len(EMOTIONS)]]
            pygame.draw.circle(surface, col, (int(x), int(y)), lay.px(6))
        draw_character(surface, self.emotion or "happy", (lay.w * 0.25, lay.h * 0.5), lay.h * 0.6, self.t)
        right = lay.rect(0.47, 0.1, 0.5, 0.8)
        self.text(surface, self.tr("closing.title"), pygame.Rect(right.x, right.y, right.w, lay.px(110)), 40,
                  darken(self.color, 0.55))
        card = pygame.Rect(right.x, right.y + lay.px(120), right.w, lay.px(120))
        self.panel(surface, card)
        self.text(surface, self.tr("closing.text"), card.inflate(-lay.px(24), -lay.px(16)), 24)
        again = pygame.Rect(right.x, right.bottom - lay.px(76), right.w, lay.px(72))
        self.button(again, self.tr("closing.again"), "again", COLOURS["happy"], 28)
        self.draw_buttons(surface)
