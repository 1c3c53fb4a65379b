"""Fear: a branching dialogue with Mira, a calm owl. The tree lives in assets/content/*/fear.toml."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pygame

from edge.ui.art import draw_owl
from edge.ui.i18n import ContentError
from edge.ui.scenes.base import Scene
from edge.ui.widgets import WHITE, darken, lighten

START = "start"


def tree_problems(nodes: dict[str, Any]) -> list[str]:
    """Everything wrong with a dialogue tree: dangling `next`, nodes that can never reach an end."""
    problems = []
    if START not in nodes:
        problems.append(f"no {START!r} node")
    ends = {key for key, node in nodes.items() if node.get("end")}
    if not ends:
        problems.append("no node with end = true")
    for key, node in nodes.items():
        if not node.get("end") and not node.get("options"):
            problems.append(f"node {key!r} has no options and is not an end")
        for opt in node.get("options", []):
            if opt.get("next") not in nodes:
                problems.append(f"node {key!r} option {opt.get('text', '')!r} leads to unknown node "
                                f"{opt.get('next')!r}")
    # backwards search from the ends: which nodes can reach one
    reach = set(ends)
    changed = True
    while changed:
        changed = False
        for key, node in nodes.items():
            if key not in reach and any(o.get("next") in reach for o in node.get("options", [])):
                reach.add(key)
                changed = True
    problems += [f"node {key!r} can never reach an end" for key in nodes if key not in reach]
    return problems


class MentorScene(Scene):
    name = "mentor"

    def __init__(self, app, emotion: str = "fear", **kwargs: Any):
        super().__init__(app, **kwargs)
        self.emotion = "fear"
        self.node = START
        self.history: list[str] = []
        problems = tree_problems(self.nodes)
        if problems:
            raise ContentError(f"fear.toml dialogue: {problems[0]}")

    @property
    def music(self) -> str | None:
        return "fear"

    @property
    def nodes(self) -> dict[str, Any]:
        return self.app.content.get("fear.mentor.nodes")  # re-read: the language may switch mid-dialogue

    def choose(self, index: int) -> None:
        node = self.nodes[self.node]
        if node.get("end"):
            self.finish_to_closing()
            return
        options = node["options"]
        if 0 <= index < len(options):
            self.history.append(self.node)
            self.node = options[index]["next"]
            self.t = 0.0

    def on_button(self, action: str) -> None:
        if action.startswith("opt"):
            self.choose(int(action[3:]))
        elif action == "finish":
            self.finish_to_closing()

    def on_pick(self, index: int) -> None:
        self.choose(index)

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        lay = self.layout
        self.buttons = []
        self.title(surface, self.tr("fear.mentor.title"))
        draw_owl(surface, (lay.w * 0.17, lay.h * 0.52), lay.h * 0.55, self.t)
        name = lay.rect(0.04, 0.8, 0.26, 0.08)
        self.text(surface, self.tr("fear.mentor.name"), name, 24, darken(self.color, 0.5))
        node = self.nodes[self.node]
        bubble = lay.rect(0.33, 0.17, 0.63, 0.36)
        self.panel(surface, bubble, 240)
        tip = [(bubble.x, bubble.y + bubble.h * 0.4), (bubble.x - lay.px(26), bubble.y + bubble.h * 0.55),
               (bubble.x, bubble.y + bubble.h * 0.65)]
        pygame.draw.polygon(surface, WHITE, tip)
        self.text(surface, node["text"], bubble.inflate(-lay.px(30), -lay.px(20)), 26)
        area = lay.rect(0.33, 0.56, 0.63, 0.41)
        if node.get("end"):
            self.button(pygame.Rect(area.x, area.y + area.h // 3, area.w, area.h // 2), self.tr("common.finish"),
                        "finish", self.color, 30, WHITE)
        else:
            options = node["options"]
            gap = lay.px(10)
            h = (area.h - gap * (len(options) - 1)) // max(1, len(options))
            for i, opt in enumerate(options):
                rect = pygame.Rect(area.x, area.y + i * (h + gap), area.w, h)
                self.button(rect, opt["text"], f"opt{i}", lighten(self.color, 0.55 if i else 0.35), 24)
        self.draw_buttons(surface)

    def screenshot_steps(self) -> Iterator[str]:
        for key in self.nodes:
            self.node = key
            yield key
