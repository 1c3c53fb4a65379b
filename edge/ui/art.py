"""Original characters and pictures drawn by code: one friendly creature per emotion, the owl mentor,
the dancer, ink blots and particles. No images are loaded from disk."""

from __future__ import annotations

import math

import numpy as np
import pygame
from pygame import gfxdraw

from edge.labels import COLOURS
from edge.ui.widgets import INK, WHITE, darken, lighten

Point = tuple[float, float]


def _poly(surface: pygame.Surface, color, points: list[Point]) -> None:
    pts = [(int(x), int(y)) for x, y in points]
    gfxdraw.filled_polygon(surface, pts, color)
    gfxdraw.aapolygon(surface, pts, color)


def _circle(surface: pygame.Surface, color, center: Point, r: float) -> None:
    x, y, r = int(center[0]), int(center[1]), max(1, int(r))
    gfxdraw.filled_circle(surface, x, y, r, color)
    gfxdraw.aacircle(surface, x, y, r, color)


def _body_points(emotion: str, cx: float, cy: float, r: float, t: float) -> list[Point]:
    """Outline of each creature's body as a polar shape, so they are all soft and rounded."""
    pts: list[Point] = []
    n = 72
    for i in range(n):
        a = 2 * math.pi * i / n
        rr = r
        if emotion == "happy":  # a sun with soft rays
            rr = r * (1 + 0.09 * math.cos(8 * a + t * 2))
        elif emotion == "surprise":  # a bursting star
            rr = r * (1 + 0.16 * max(0.0, math.cos(10 * a)) ** 3)
        elif emotion == "angry":  # a flame: pointy, flickering top
            up = max(0.0, -math.sin(a))
            rr = r * (1 + 0.45 * up ** 3 * (1 + 0.15 * math.sin(t * 9 + 5 * a)) + 0.05 * math.sin(7 * a + t * 7) * up)
        elif emotion == "sad":  # a droplet: pointed top
            up = max(0.0, -math.sin(a))
            rr = r * (1 + 0.55 * up ** 6)
        elif emotion == "fear":  # a wobbly, tall ghost-like shape
            rr = r * (1 + 0.06 * math.sin(6 * a + t * 6))
            pts.append((cx + rr * 0.82 * math.cos(a), cy + rr * 1.12 * math.sin(a)))
            continue
        elif emotion == "disgust":  # a round sprout with a bumpy outline
            rr = r * (1 + 0.04 * math.sin(5 * a))
        elif emotion == "neutral":  # a pebble
            pts.append((cx + r * 1.12 * math.cos(a), cy + r * 0.86 * math.sin(a)))
            continue
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def draw_character(surface: pygame.Surface, emotion: str, center: Point, size: float, t: float = 0.0) -> None:
    """The emotion's original creature, `size` pixels tall, gently bouncing with time t."""
    color = COLOURS.get(emotion, COLOURS["neutral"])
    r = size * 0.36
    bounce = math.sin(t * (5 if emotion in ("happy", "surprise") else 2.2)) * size * 0.025
    cx, cy = center[0], center[1] + bounce
    # shadow on the floor
    shadow = pygame.Rect(0, 0, int(r * 1.6), int(r * 0.28))
    shadow.center = (int(center[0]), int(center[1] + r * 1.12))
    pygame.draw.ellipse(surface, darken(lighten(color, 0.6), 0.25), shadow)
    if emotion == "disgust":  # the sprout's leaves
        for side in (-1, 1):
            lx = cx + side * r * 0.3
            _poly(surface, darken(color, 0.2), [(cx, cy - r * 0.9), (lx + side * r * 0.5, cy - r * 1.45),
                                                  (lx + side * r * 0.05, cy - r * 1.2)])
    _poly(surface, darken(color, 0.18), _body_points(emotion, cx, cy + size * 0.02, r, t))
    _poly(surface, color, _body_points(emotion, cx, cy, r, t))
    # a soft highlight
    _circle(surface, lighten(color, 0.45), (cx - r * 0.42, cy - r * 0.42), r * 0.16)
    _face(surface, emotion, cx, cy + r * 0.1, r, t)


def _face(surface: pygame.Surface, emotion: str, cx: float, cy: float, r: float, t: float) -> None:
    eye_dx, eye_y = r * 0.34, cy - r * 0.18
    eye_r = r * (0.2 if emotion in ("fear", "surprise") else 0.15)
    blink = (t % 4.0) > 3.88  # a quick blink every 4 s (never at t=0, so stills show open eyes)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        if blink:
            pygame.draw.line(surface, INK, (ex - eye_r, eye_y), (ex + eye_r, eye_y), max(2, int(r * 0.05)))
            continue
        _circle(surface, WHITE, (ex, eye_y), eye_r)
        look = r * 0.04 * math.sin(t * 0.7)
        _circle(surface, INK, (ex + look, eye_y + eye_r * 0.15), eye_r * 0.55)
        _circle(surface, WHITE, (ex + look - eye_r * 0.2, eye_y - eye_r * 0.1), eye_r * 0.18)
        width = max(2, int(r * 0.06))
        # `ex - side * k` is towards the nose, `ex + side * k` towards the ear
        if emotion == "angry":  # eyebrows slanting down to the middle
            pygame.draw.line(surface, INK, (ex - side * eye_r * 1.1, eye_y - eye_r * 0.9),
                             (ex + side * eye_r * 1.0, eye_y - eye_r * 1.7), width)
        elif emotion in ("sad", "fear"):  # worried eyebrows: raised in the middle
            pygame.draw.line(surface, INK, (ex - side * eye_r * 1.0, eye_y - eye_r * 1.9),
                             (ex + side * eye_r * 1.0, eye_y - eye_r * 1.3), width)
    mouth_y = cy + r * 0.32
    w = max(2, int(r * 0.07))
    box = pygame.Rect(0, 0, int(r * 0.7), int(r * 0.5))
    if emotion == "happy":
        box.center = (int(cx), int(mouth_y - r * 0.12))
        pygame.draw.arc(surface, INK, box, math.pi * 1.1, math.pi * 1.9, w)
        _circle(surface, (255, 140, 120), (cx - r * 0.6, mouth_y - r * 0.12), r * 0.1)
        _circle(surface, (255, 140, 120), (cx + r * 0.6, mouth_y - r * 0.12), r * 0.1)
    elif emotion == "sad":
        box.center = (int(cx), int(mouth_y + r * 0.2))
        pygame.draw.arc(surface, INK, box, math.pi * 0.2, math.pi * 0.8, w)
        tear_y = eye_y + r * 0.3 + (t * r * 0.4) % (r * 0.5)
        _circle(surface, lighten(COLOURS["sad"], 0.6), (cx - eye_dx - r * 0.05, tear_y), r * 0.07)
    elif emotion == "angry":
        pygame.draw.line(surface, INK, (cx - r * 0.3, mouth_y + r * 0.05), (cx + r * 0.3, mouth_y + r * 0.05), w)
    elif emotion == "surprise":
        m = pygame.Rect(0, 0, int(r * 0.3), int(r * 0.38))
        m.center = (int(cx), int(mouth_y + r * 0.05))
        pygame.draw.ellipse(surface, INK, m)
    elif emotion == "fear":
        pts = [(cx - r * 0.3 + i * r * 0.1, mouth_y + (r * 0.05 if i % 2 else -r * 0.03)) for i in range(7)]
        pygame.draw.lines(surface, INK, False, pts, w)
    elif emotion == "disgust":
        pygame.draw.line(surface, INK, (cx - r * 0.3, mouth_y), (cx + r * 0.3, mouth_y - r * 0.06), w)
        tongue = pygame.Rect(0, 0, int(r * 0.18), int(r * 0.22))
        tongue.midtop = (int(cx + r * 0.08), int(mouth_y - r * 0.02))
        pygame.draw.ellipse(surface, (235, 100, 120), tongue)
    else:
        pygame.draw.line(surface, INK, (cx - r * 0.22, mouth_y), (cx + r * 0.22, mouth_y), w)


def draw_owl(surface: pygame.Surface, center: Point, size: float, t: float = 0.0) -> None:
    """Mira, the calm owl mentor of the fear activity."""
    cx, cy = center[0], center[1] + math.sin(t * 1.5) * size * 0.015
    body, belly = (150, 120, 190), (222, 208, 240)
    r = size * 0.34
    for side in (-1, 1):  # ear tufts
        tuft = [(cx + side * r * 0.35, cy - r * 1.05), (cx + side * r * 0.85, cy - r * 1.45),
                (cx + side * r * 0.8, cy - r * 0.75)]
        _poly(surface, darken(body, 0.15), tuft)
    pygame.draw.ellipse(surface, body, pygame.Rect(int(cx - r), int(cy - r * 1.15), int(2 * r), int(2.3 * r)))
    pygame.draw.ellipse(surface, belly, pygame.Rect(int(cx - r * 0.6), int(cy - r * 0.1), int(1.2 * r), int(1.3 * r)))
    for side in (-1, 1):  # wings
        wing = pygame.Rect(0, 0, int(r * 0.5), int(r * 1.2))
        wing.center = (int(cx + side * r * 0.9), int(cy + r * 0.3))
        pygame.draw.ellipse(surface, darken(body, 0.2), wing)
        ex, ey = cx + side * r * 0.42, cy - r * 0.45
        _circle(surface, WHITE, (ex, ey), r * 0.33)
        _circle(surface, (250, 200, 90), (ex, ey), r * 0.2)
        _circle(surface, INK, (ex, ey + r * 0.03), r * 0.11)
        _circle(surface, WHITE, (ex - r * 0.04, ey - r * 0.02), r * 0.035)
        # soft raised brows make her look kind rather than stern
        brow = pygame.Rect(int(ex - r * 0.3), int(ey - r * 0.52), int(r * 0.6), int(r * 0.3))
        pygame.draw.arc(surface, darken(body, 0.35), brow, math.pi * 0.15, math.pi * 0.85, max(2, int(r * 0.05)))
    _poly(surface, (245, 160, 60), [(cx - r * 0.12, cy - r * 0.22), (cx + r * 0.12, cy - r * 0.22), (cx, cy)])
    for side in (-1, 1):  # feet
        _circle(surface, (245, 160, 60), (cx + side * r * 0.3, cy + r * 1.15), r * 0.1)


# --- the dancer -------------------------------------------------------------------------------

def dancer_pose(move: str, phase: float) -> dict[str, float]:
    """Arm angles (radians from straight down, positive = outwards-up), body lift and squash for a move.

    `phase` runs 0..1 over one beat pair; the figure performs the move the visitor should copy.
    """
    s = math.sin(phase * 2 * math.pi)
    pose = {"left": 0.35, "right": 0.35, "lift": 0.0, "turn": 1.0}
    if move == "jump":
        pose.update(left=1.2, right=1.2, lift=max(0.0, s))
    elif move == "wave_left":
        pose.update(left=2.6 + 0.45 * s)
    elif move == "wave_right":
        pose.update(right=2.6 + 0.45 * s)
    elif move == "spin":
        pose.update(left=1.4, right=1.4, turn=math.cos(phase * 2 * math.pi))
    elif move == "clap":
        c = 0.5 + 0.5 * s
        pose.update(left=0.9 + 0.7 * c, right=0.9 + 0.7 * c)
    return pose


def draw_dancer(surface: pygame.Surface, move: str, phase: float, center: Point, height: float, color) -> None:
    """A friendly round-headed figure; 'left' is the arm on the screen's left (the visitor mirrors it)."""
    pose = dancer_pose(move, phase)
    cx = center[0]
    cy = center[1] - pose["lift"] * height * 0.12
    w = max(3, int(height * 0.06))
    head_r = height * 0.12
    neck = (cx, cy - height * 0.22)
    hip = (cx, cy + height * 0.12)
    turn = pose["turn"]
    shoulder_w = height * 0.12 * max(0.25, abs(turn))
    dark = darken(color, 0.3)
    for side, key in ((-1, "left"), (1, "right")):
        sh = (cx + side * shoulder_w, neck[1] + height * 0.04)
        a = pose[key]
        length = height * 0.3
        hand = (sh[0] + side * math.sin(a) * length * max(0.25, abs(turn)), sh[1] + math.cos(a) * length)
        pygame.draw.line(surface, dark, sh, hand, w)
        _circle(surface, color, hand, w * 0.9)
        foot = (cx + side * height * 0.12, cy + height * 0.45)
        pygame.draw.line(surface, dark, (cx + side * height * 0.05, hip[1]), foot, w)
        pygame.draw.ellipse(surface, dark, pygame.Rect(int(foot[0] - w * 1.2), int(foot[1] - w * 0.5),
                                                        int(w * 2.4), int(w * 1.2)))
    body = pygame.Rect(0, 0, int(shoulder_w * 2.4), int(height * 0.4))
    body.midtop = (int(cx), int(neck[1] - height * 0.02))
    pygame.draw.ellipse(surface, color, body)
    _circle(surface, color, (cx, neck[1] - head_r * 0.9), head_r)
    if turn > -0.2:  # the face is visible unless turned away
        for side in (-1, 1):
            _circle(surface, INK, (cx + side * head_r * 0.35 * turn, neck[1] - head_r), head_r * 0.13)
        arc = pygame.Rect(0, 0, int(head_r * 0.9 * max(0.3, turn)), int(head_r * 0.6))
        arc.center = (int(cx), int(neck[1] - head_r * 0.75))
        pygame.draw.arc(surface, INK, arc, math.pi * 1.1, math.pi * 1.9, max(2, w // 3))


# --- ink blots --------------------------------------------------------------------------------

def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Value noise: a coarse random grid bilinearly upsampled to `shape` (range about -1..1)."""
    h, w = shape
    grid = rng.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32)
    gy = np.linspace(0, cells, h, dtype=np.float32)
    gx = np.linspace(0, cells, w, dtype=np.float32)
    y0 = np.minimum(gy.astype(int), cells - 1)
    x0 = np.minimum(gx.astype(int), cells - 1)
    fy = (gy - y0)[:, None]
    fx = (gx - x0)[None, :]
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    return a * (1 - fx) * (1 - fy) + b * fx * (1 - fy) + c * (1 - fx) * fy + d * fx * fy


def generate_blot(seed: int, size: tuple[int, int] = (240, 200)) -> np.ndarray:
    """A left-right symmetric ink blot as a (h, w) float array in 0..1 (1 = ink); same seed, same blot."""
    w, h = size
    rng = np.random.default_rng(seed)
    half = (w + 1) // 2
    ys, xs = np.mgrid[0:h, 0:half].astype(np.float32)
    m = float(min(half * 2, h))
    field = np.zeros((h, half), np.float32)
    n = int(rng.integers(14, 24))
    # blobs crowd towards the fold (right edge of the left half) like ink on folded paper
    cx = half * (1 - rng.beta(1.2, 2.5, n))
    cy = h * rng.uniform(0.12, 0.88, n)
    sig = rng.uniform(0.025, 0.09, n) * m
    amp = rng.uniform(0.7, 1.3, n)
    stretch = rng.uniform(0.5, 2.0, n)
    for x0, y0, s, a, k in zip(cx, cy, sig, amp, stretch):
        field += a * np.exp(-(((xs - x0) / (s * k)) ** 2 + ((ys - y0) / s) ** 2) / 2)
    for _ in range(int(rng.integers(10, 22))):  # splatter droplets
        x0, y0, s = rng.uniform(0, half), rng.uniform(0, h), rng.uniform(0.006, 0.018) * m
        field += 1.3 * np.exp(-(((xs - x0) / s) ** 2 + ((ys - y0) / s) ** 2) / 2)
    # ragged, organic edges from two octaves of noise
    field += 0.35 * _smooth_noise(rng, (h, half), 6) + 0.18 * _smooth_noise(rng, (h, half), 18)
    edge = np.clip(np.minimum.reduce([xs, ys, h - 1 - ys]) / (0.12 * m), 0, 1)  # keep inside the card
    field *= edge
    ink = np.clip((field - 0.6) * 7.0, 0.0, 1.0)
    right = ink[:, ::-1][:, (w % 2):]
    return np.concatenate([ink, right], axis=1)[:, :w].astype(np.float32)


def blot_surface(blot: np.ndarray, ink=(30, 40, 60), paper=(250, 247, 240)) -> pygame.Surface:
    a = blot[..., None]
    rgb = (np.array(paper, np.float32) * (1 - a) + np.array(ink, np.float32) * a).astype(np.uint8)
    return pygame.surfarray.make_surface(np.ascontiguousarray(rgb.transpose(1, 0, 2)))


# --- particles --------------------------------------------------------------------------------

class Particles:
    """Soft dots drifting upwards (anger's cooling embers, the calm moment's bubbles)."""

    def __init__(self, count: int, color, seed: int = 0, speed: float = 0.08, ring: bool = False):
        self.rng = np.random.default_rng(seed)
        self.color = color
        self.ring = ring
        self.speed = speed
        self.pos = self.rng.uniform(0, 1, (count, 2)).astype(np.float32)
        self.size = self.rng.uniform(0.006, 0.02, count).astype(np.float32)
        self.vel = self.rng.uniform(0.5, 1.5, count).astype(np.float32)

    def update(self, dt: float) -> None:
        self.pos[:, 1] -= self.vel * self.speed * dt
        self.pos[:, 0] += np.sin(self.pos[:, 1] * 12 + self.vel * 3) * 0.01 * dt
        gone = self.pos[:, 1] < -0.05
        self.pos[gone, 1] = 1.05
        self.pos[gone, 0] = self.rng.uniform(0, 1, int(gone.sum()))

    def draw(self, surface: pygame.Surface) -> None:
        w, h = surface.get_size()
        unit = min(w, h)
        for (x, y), s, v in zip(self.pos, self.size, self.vel):
            r = max(2, int(s * unit * 2))
            col = lighten(self.color, 0.25 + 0.3 * (v - 0.5))
            if self.ring:
                pygame.draw.circle(surface, col, (int(x * w), int(y * h)), r, max(1, r // 4))
            else:
                _circle(surface, col, (x * w, y * h), r)
