"""Joy: a 30-second dance challenge. An on-screen dancer shows moves; the camera scores how well the
visitor copies them from motion in body regions placed relative to their face box, and jumps from
the face's vertical motion. Nothing is stored except the day's high score number."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import pygame

from edge.types import Box
from edge.ui.art import draw_dancer
from edge.ui.scenes.base import Preview, Scene
from edge.ui.widgets import WHITE, darken, qr_surface

MOVES: tuple[str, ...] = ("jump", "wave_left", "wave_right", "spin", "clap")
BEAT_S = 0.5
MOVE_BEATS = 6  # each move lasts 3 s
WORK_WIDTH = 160  # motion is measured on a small copy of the gray frame: cheap and noise-tolerant
DIFF_LEVEL = 25  # gray levels a pixel must change by to count as motion
HIT_FRACTION = 0.06  # share of a region's pixels that must move for a hit


def regions(box: Box, size: tuple[int, int]) -> dict[str, tuple[int, int, int, int]]:
    """Body regions (x0, y0, x1, y1) in MIRRORED image coordinates (as the visitor sees the preview),
    sized from the face box so the game works near and far from the camera."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    W, H = size

    def clip(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (int(max(0, x0)), int(max(0, y0)), int(min(W, x1)), int(min(H, y1)))

    return {
        "left": clip(cx - 3.2 * w, cy - 2.2 * h, cx - 0.75 * w, cy + 1.2 * h),
        "right": clip(cx + 0.75 * w, cy - 2.2 * h, cx + 3.2 * w, cy + 1.2 * h),
        "chest": clip(cx - 1.1 * w, cy + 0.8 * h, cx + 1.1 * w, cy + 2.8 * h),
        "face": clip(x, y, x + w, y + h),
    }


@dataclass
class DanceScorer:
    """Feeds on (gray frame, face box) pairs; `end_beat(move)` judges the beat just finished."""

    score: int = 0
    combo: int = 0
    best_combo: int = 0
    hits: int = 0
    beats: int = 0
    last_hit: bool | None = None
    _prev: np.ndarray | None = None
    _box: Box | None = None
    _energy: dict[str, float] = field(default_factory=dict)
    _frames: int = 0
    _face_y: list[float] = field(default_factory=list)
    _lost: int = 0

    def feed(self, gray: np.ndarray, box: Box | None) -> None:
        H, W = gray.shape[:2]
        scale = WORK_WIDTH / W
        small = cv2.resize(gray, (WORK_WIDTH, max(1, int(H * scale))), interpolation=cv2.INTER_AREA)[:, ::-1]
        if box is not None:
            x, y, w, h = box
            self._box = (int((W - x - w) * scale), int(y * scale), max(1, int(w * scale)), max(1, int(h * scale)))
            self._face_y.append(self._box[1] + self._box[3] / 2)
        else:
            self._lost += 1
        if self._prev is not None and self._prev.shape == small.shape and self._box is not None:
            moving = cv2.absdiff(small, self._prev) > DIFF_LEVEL
            for name, (x0, y0, x1, y1) in regions(self._box, (small.shape[1], small.shape[0])).items():
                area = moving[y0:y1, x0:x1]
                frac = float(area.mean()) if area.size else 0.0
                self._energy[name] = self._energy.get(name, 0.0) + frac
            self._frames += 1
        self._prev = small

    def evidence(self) -> dict[str, float]:
        """Mean motion share per region over the beat, plus the face's vertical travel in face heights."""
        n = max(1, self._frames)
        ev = {k: v / n for k, v in self._energy.items()}
        h = self._box[3] if self._box else 1
        ev["jump"] = (max(self._face_y) - min(self._face_y)) / h if len(self._face_y) >= 2 else 0.0
        ev["lost"] = float(self._lost)
        return ev

    def matches(self, move: str, ev: dict[str, float]) -> bool:
        left, right, chest, face = (ev.get(k, 0.0) for k in ("left", "right", "chest", "face"))
        if move == "jump":
            return ev["jump"] > 0.25
        if move == "wave_left":
            return left > HIT_FRACTION and left > 1.5 * right
        if move == "wave_right":
            return right > HIT_FRACTION and right > 1.5 * left
        if move == "clap":
            return chest > HIT_FRACTION
        if move == "spin":  # turning moves everything, and the face usually disappears for a moment
            return (min(left, right) > HIT_FRACTION / 2 and face > HIT_FRACTION) or (
                ev["lost"] > 0 and max(left, right, chest) > HIT_FRACTION)
        return False

    def end_beat(self, move: str) -> bool:
        hit = self.matches(move, self.evidence())
        self.beats += 1
        if hit:
            self.hits += 1
            self.combo += 1
            self.best_combo = max(self.best_combo, self.combo)
            self.score += 10 * min(4, 1 + self.combo // 4)  # combo multiplier up to ×4
        else:
            self.combo = 0
        self.last_hit = hit
        self._energy, self._frames, self._lost = {}, 0, 0
        self._face_y = []  # each beat is judged on its own frames
        return hit


def choreography(seed: int, seconds: float) -> list[str]:
    """The visit's sequence of moves (no move twice in a row)."""
    rng = np.random.default_rng(seed)
    count = max(1, int(round(seconds / (BEAT_S * MOVE_BEATS))))
    moves: list[str] = []
    for _ in range(count):
        options = [m for m in MOVES if not moves or m != moves[-1]]
        moves.append(options[int(rng.integers(len(options)))])
    return moves


class DanceScene(Scene):
    name = "dance"

    def __init__(self, app, emotion: str = "happy", **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = "happy"
        self.seconds = float(app.config.activities.dance_seconds)
        self.moves = choreography(app.new_seed(), self.seconds)
        self.scorer = DanceScorer()
        self.stage = "intro"  # intro | ready | dance | final | share
        self.clock = 0.0
        self.beat_clock = 0.0
        self.last_frame = -1
        self.record = False
        self.preview = Preview()

    @property
    def music(self) -> str | None:
        return "happy"

    @property
    def move(self) -> str:
        return self.moves[min(len(self.moves) - 1, int(self.clock / (BEAT_S * MOVE_BEATS)))]

    def update(self, dt: float) -> None:
        super().update(dt)
        if self.stage == "intro" and self.t > 8.0:
            self.start()
        elif self.stage == "ready" and self.t >= 3.0:
            self.stage, self.t = "dance", 0.0
        elif self.stage == "dance":
            frame, result = self.live_view()
            if frame is not None and frame.index != self.last_frame:
                self.last_frame = frame.index
                face = result.main_face if result is not None else None
                box = face.box if face is not None else None
                if box is not None and result is not None and result.gray_size[0] and \
                        result.gray_size != (frame.gray.shape[1], frame.gray.shape[0]):
                    sx = frame.gray.shape[1] / result.gray_size[0]
                    sy = frame.gray.shape[0] / result.gray_size[1]
                    box = (int(box[0] * sx), int(box[1] * sy), int(box[2] * sx), int(box[3] * sy))
                self.scorer.feed(frame.gray, box)
            self.clock += dt
            self.beat_clock += dt
            while self.beat_clock >= BEAT_S:
                self.beat_clock -= BEAT_S
                self.scorer.end_beat(self.move)
            if self.clock >= self.seconds:
                self.finish_dance()
        elif self.stage in ("final", "share") and self.t > 25.0:
            self.finish_to_closing()

    def start(self) -> None:
        self.stage, self.t = "ready", 0.0

    def finish_dance(self) -> None:
        self.stage, self.t = "final", 0.0
        self.record = self.app.record_score(self.scorer.score)

    def on_button(self, action: str) -> None:
        if action == "start":
            self.start()
        elif action == "share":
            self.stage, self.t = "share", 0.0
        elif action == "back":
            self.stage = "final"
        elif action == "finish":
            self.finish_to_closing()

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        self.title(surface, self.tr("joy.dance.title"))
        dark = darken(self.color, 0.6)
        if self.stage == "intro":
            draw_dancer(surface, "wave_right", (self.t * 0.5) % 1, (lay.w * 0.22, lay.h * 0.55), lay.h * 0.6,
                        darken(self.color, 0.05))
            card = lay.rect(0.43, 0.2, 0.53, 0.42)
            self.panel(surface, card)
            self.text(surface, self.tr("joy.dance.intro"), card.inflate(-lay.px(24), -lay.px(20)), 26)
            self.button(lay.rect(0.48, 0.7, 0.43, 0.16), self.tr("joy.dance.start"), "start", self.color, 32)
        elif self.stage in ("ready", "dance"):
            frame, result = self.live_view()
            prev = lay.rect(0.52, 0.17, 0.45, 0.6)
            self.preview.draw(surface, prev, frame, result, self.color, lay, self.camera_placeholder(),
                              self.app.text_cache)
            phase = (self.clock / (2 * BEAT_S)) % 1.0
            move = self.move if self.stage == "dance" else "clap"
            draw_dancer(surface, move, phase, (lay.w * 0.25, lay.h * 0.52), lay.h * 0.55, darken(self.color, 0.05))
            if self.stage == "ready":
                n = max(1, 3 - int(self.t))
                self.text(surface, f"{self.tr('joy.dance.get_ready')} {n}", lay.rect(0.03, 0.82, 0.46, 0.14), 32, dark)
            else:
                self.text(surface, self.tr(f"joy.dance.moves.{move}"), lay.rect(0.03, 0.82, 0.46, 0.14), 34, dark)
                if move in ("wave_left", "wave_right"):  # an arrow shows which arm, as seen on screen
                    side = -1 if move == "wave_left" else 1
                    ax, ay = lay.w * 0.25 + side * lay.px(140), lay.h * 0.3
                    pygame.draw.polygon(surface, dark, [(ax + side * lay.px(26), ay), (ax, ay - lay.px(20)),
                                                        (ax, ay + lay.px(20))])
            hud = pygame.Rect(prev.x, prev.bottom + lay.px(10), prev.w, lay.h - prev.bottom - lay.px(16))
            self.panel(surface, hud)
            third = hud.w // 3
            self.text(surface, f"{self.tr('joy.dance.points')}: {self.scorer.score}",
                      pygame.Rect(hud.x + lay.px(8), hud.y, third + lay.px(20), hud.h), 22, dark)
            if self.scorer.combo >= 2:
                self.text(surface, self.tr("joy.dance.combo", combo=self.scorer.combo),
                          pygame.Rect(hud.x + third + lay.px(30), hud.y, third - lay.px(20), hud.h), 22,
                          darken((255, 120, 0), 0.1))
            left = max(0, math.ceil(self.seconds - self.clock))
            self.text(surface, self.tr("joy.dance.time_left", seconds=left),
                      pygame.Rect(hud.right - third, hud.y, third - lay.px(8), hud.h), 22, dark)
            if self.scorer.last_hit is not None and self.stage == "dance" and self.beat_clock < BEAT_S * 0.8:
                word = self.tr("joy.dance.hit" if self.scorer.last_hit else "joy.dance.miss")
                tag = pygame.Rect(prev.x + lay.px(12), prev.y + lay.px(12), lay.px(170), lay.px(46))
                pygame.draw.rect(surface, self.color if self.scorer.last_hit else WHITE, tag, border_radius=tag.h // 2)
                self.text(surface, word, tag.inflate(-lay.px(14), -lay.px(6)), 24, dark)
        elif self.stage == "final":
            card = lay.rect(0.08, 0.17, 0.84, 0.55)
            self.panel(surface, card, 235)
            inner = card.inflate(-lay.px(30), -lay.px(16))
            self.text(surface, self.tr("joy.dance.final_title"), pygame.Rect(inner.x, inner.y, inner.w, inner.h // 3),
                      34, dark)
            self.text(surface, self.tr("joy.dance.final_score", score=self.scorer.score),
                      pygame.Rect(inner.x, inner.y + inner.h // 3, inner.w, inner.h // 3), 44, darken(self.color, 0.3))
            best = self.tr("joy.dance.new_record") if self.record else self.tr(
                "joy.dance.high_score", score=self.app.high_score())
            self.text(surface, best, pygame.Rect(inner.x, inner.y + 2 * inner.h // 3, inner.w, inner.h // 3), 26, dark)
            self.button(lay.rect(0.1, 0.78, 0.38, 0.16), self.tr("joy.dance.share"), "share", WHITE, 28)
            self.button(lay.rect(0.52, 0.78, 0.38, 0.16), self.tr("joy.dance.done"), "finish", self.color, 28)
        else:  # share: a card with a QR code that carries only the score sentence
            card = lay.rect(0.2, 0.16, 0.6, 0.62)
            self.panel(surface, card, 245)
            text = self.tr("joy.dance.share_text", score=self.scorer.score)
            side = min(card.h - lay.px(30), int(card.w * 0.5))
            qr = qr_surface(text, side)
            qr_rect = pygame.Rect(card.x + lay.px(16), card.y + (card.h - side) // 2, side, side)
            if qr is not None:
                surface.blit(pygame.transform.scale(qr, (side, side)), qr_rect)
            info = pygame.Rect(qr_rect.right + lay.px(14), card.y + lay.px(14), card.right - qr_rect.right - lay.px(28),
                               card.h - lay.px(28))
            self.text(surface, self.tr("joy.dance.share_title"), pygame.Rect(info.x, info.y, info.w, info.h // 2), 24,
                      dark)
            self.text(surface, text, pygame.Rect(info.x, info.centery, info.w, info.h // 2), 18, bold=False)
            self.button(lay.rect(0.1, 0.82, 0.38, 0.14), self.tr("common.back"), "back", WHITE, 26)
            self.button(lay.rect(0.52, 0.82, 0.38, 0.14), self.tr("joy.dance.done"), "finish", self.color, 26)
        self.draw_buttons(surface)

    def screenshot_steps(self) -> Iterator[str]:
        yield "intro"
        self.stage, self.t = "ready", 1.2
        yield "ready"
        self.stage = "dance"
        for i, move in enumerate(MOVES):
            self.moves[0] = move
            self.clock, self.beat_clock = 0.3 + i * 0.1, 0.1
            self.scorer.score, self.scorer.combo, self.scorer.last_hit = 120 + 40 * i, i + 1, i % 2 == 0
            yield f"move-{move}"
        self.scorer.score = 340
        self.finish_dance()
        yield "final"
        self.stage = "share"
        yield "share"
