"""The Scene base class and drawing helpers shared by scenes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pygame

from edge.labels import COLOURS
from edge.types import CameraState, Frame, FrameResult, VisionSource
from edge.ui.input import Action
from edge.ui.widgets import INK, WHITE, Button, Layout, background, darken, draw_text, lighten, rounded

if TYPE_CHECKING:
    from edge.ui.app import ExhibitApp

# Which activity answers which emotion (neutral and surprise share the calm offer).
ACTIVITY_FOR: dict[str, str] = {
    "happy": "dance", "sad": "support", "angry": "breathing", "fear": "mentor", "disgust": "rorschach",
    "neutral": "calm", "surprise": "calm",
}


# A camera in these states shows no picture: the pipeline keeps its last frame and result after a loss.
NO_PICTURE = (CameraState.LOST, CameraState.ENDED)


def live_view(vision: VisionSource) -> tuple[Frame | None, FrameResult | None]:
    """vision.latest() while the camera works, (None, None) once it is lost or ended. Drawn as is, the last frame
    would freeze on screen with a stale face box instead of the camera-lost text, and a stale face would keep the
    exhibit from ever going idle."""
    if vision.state in NO_PICTURE:
        return None, None
    return vision.latest()


class Scene:
    """A screen: handle(action), update(dt), draw(surface). Buttons are rebuilt on every draw from
    the current layout, so taps always match what is on screen."""

    name = "scene"
    emotion: str | None = None  # colours the background; None = the attract palette

    def __init__(self, app: ExhibitApp, **kwargs: Any):
        self.app = app
        self.t = 0.0
        self.buttons: list[Button] = []

    # --- life cycle
    @property
    def music(self) -> str | None:
        return "attract"

    def enter(self) -> None:
        """Called once when the scene becomes current."""

    def update(self, dt: float) -> None:
        self.t += dt

    def handle(self, action: Action) -> None:
        if action.kind == "tap":
            for button in self.buttons:
                if button.hit(action.pos):
                    self.on_button(button.action)
                    return
        elif action.kind == "primary":
            self.on_primary()
        elif action.kind == "back":
            self.app.go("attract")  # Esc never strands a visitor: it always leads home
        elif action.kind == "pick":
            self.on_pick(action.index)

    def on_button(self, action: str) -> None:
        pass

    def on_primary(self) -> None:
        if self.buttons:
            self.on_button(self.buttons[0].action)

    def on_pick(self, index: int) -> None:
        pass

    def draw(self, surface: pygame.Surface) -> None:
        surface.blit(background(surface.get_size(), self.color), (0, 0))

    def screenshot_steps(self) -> Iterator[str]:
        """Put the scene into each of its visual states in turn (for --screenshots and render tests)."""
        yield "main"

    # --- helpers
    @property
    def color(self) -> tuple[int, int, int]:
        return COLOURS[self.emotion] if self.emotion else (120, 170, 230)

    @property
    def layout(self) -> Layout:
        return self.app.layout

    def tr(self, key: str, **fmt: Any) -> str:
        return self.app.content.t(key, **fmt)

    def text(self, surface: pygame.Surface, text: str, rect: pygame.Rect, size: float = 24,
             color=INK, bold: bool = True, align: str = "center", valign: str = "center") -> pygame.Rect:
        return draw_text(surface, self.app.text_cache, text, rect, color, self.layout.px(size), bold, align, valign)

    def button(self, rect: pygame.Rect, label: str, action: str, color=None, size: float = 28,
               text_color=INK) -> Button:
        b = Button(rect, label, action, color or WHITE, text_color, size)
        self.buttons.append(b)
        return b

    def draw_buttons(self, surface: pygame.Surface) -> None:
        for b in self.buttons:
            b.draw(surface, self.app.text_cache, self.layout)

    def title(self, surface: pygame.Surface, text: str) -> pygame.Rect:
        lay = self.layout
        rect = lay.rect(0.04, 0.025, 0.92, 0.13)
        return self.text(surface, text, rect, 36, darken(self.color, 0.55))

    def panel(self, surface: pygame.Surface, rect: pygame.Rect, alpha: int = 215) -> None:
        """A translucent rounded card to put text on."""
        card = pygame.Surface(rect.size, pygame.SRCALPHA)
        pygame.draw.rect(card, (255, 255, 255, alpha), card.get_rect(), border_radius=self.layout.px(22))
        surface.blit(card, rect.topleft)

    def live_view(self) -> tuple[Frame | None, FrameResult | None]:
        return live_view(self.app.vision)

    def camera_placeholder(self) -> str:
        """What the preview shows when there is no picture: camera lost, or still starting."""
        return self.tr("attract.camera_lost" if self.app.vision.state in NO_PICTURE else "attract.camera_starting")

    def finish_to_closing(self) -> None:
        self.app.go("closing", emotion=self.emotion or "neutral")


class Preview:
    """The mirrored camera picture, converted once per captured frame (not once per drawn frame)."""

    def __init__(self) -> None:
        self._key: tuple[int, float, tuple[int, int]] | None = None
        self._surf: pygame.Surface | None = None

    def surface(self, frame: Frame, size: tuple[int, int]) -> tuple[pygame.Surface, float, tuple[int, int]]:
        """(scaled mirrored image, scale factor from frame.image, offset inside `size`)."""
        h, w = frame.image.shape[:2]
        scale = min(size[0] / w, size[1] / h)
        key = (frame.index, frame.timestamp, size)
        if key != self._key:
            img = np.ascontiguousarray(frame.image[:, ::-1, :3])  # mirror: visitors expect a mirror
            raw = pygame.image.frombuffer(img.tobytes(), (w, h), "RGB")
            target = (max(1, int(w * scale)), max(1, int(h * scale)))
            self._surf = pygame.transform.smoothscale(raw, target) if scale < 1 else pygame.transform.scale(raw, target)
            self._key = key
        assert self._surf is not None
        off = ((size[0] - self._surf.get_width()) // 2, (size[1] - self._surf.get_height()) // 2)
        return self._surf, scale, off

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, frame: Frame | None, result: FrameResult | None,
             color, layout: Layout, placeholder: str = "", cache=None) -> None:
        radius = layout.px(26)
        rounded(surface, darken(color, 0.35), rect.inflate(layout.px(10), layout.px(10)), radius + layout.px(5))
        rounded(surface, (32, 36, 52), rect, radius)
        if frame is None:
            if placeholder and cache is not None:
                draw_text(surface, cache, placeholder, rect.inflate(-layout.px(30), -layout.px(30)), WHITE,
                          layout.px(24))
            return
        img, scale, off = self.surface(frame, rect.size)
        surface.blit(img, (rect.x + off[0], rect.y + off[1]))
        if result is None:
            return
        gh, gw = frame.gray.shape[:2]
        rw, rh = result.gray_size if result.gray_size[0] else (gw, gh)
        fx = frame.image.shape[1] / rw
        fy = frame.image.shape[0] / rh
        for i, face in enumerate(result.faces):
            x, y, w, h = face.box
            x = rw - x - w  # mirror the box like the picture
            box = pygame.Rect(rect.x + off[0] + int(x * fx * scale), rect.y + off[1] + int(y * fy * scale),
                              int(w * fx * scale), int(h * fy * scale))
            pygame.draw.rect(surface, lighten(color, 0.2) if i == 0 else WHITE, box, max(2, layout.px(4)),
                             border_radius=layout.px(14))
