"""One input vocabulary for touch, mouse, keyboard and the optional arcade button on a Pi's GPIO."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pygame

log = logging.getLogger(__name__)

GPIO_EVENT = pygame.USEREVENT + 1  # posted by the arcade button thread

NUMBER_KEYS = {getattr(pygame, f"K_{i}"): i - 1 for i in range(1, 8)} | {
    getattr(pygame, f"K_KP{i}"): i - 1 for i in range(1, 8)}


@dataclass(frozen=True)
class Action:
    kind: str  # tap | primary | pick | language | back | quit
    pos: tuple[int, int] = (0, 0)
    index: int = -1


def translate(event: pygame.event.Event) -> Action | None:
    """A pygame event → an Action, or None for events the exhibit ignores."""
    if event.type == pygame.MOUSEBUTTONDOWN and getattr(event, "button", 1) == 1:
        return Action("tap", tuple(event.pos))
    if event.type == GPIO_EVENT:
        return Action("primary")
    if event.type != pygame.KEYDOWN:
        return None
    mod = getattr(event, "mod", 0)
    if event.key == pygame.K_q and mod & pygame.KMOD_CTRL and mod & pygame.KMOD_SHIFT:
        return Action("quit")  # the staff combination
    if event.key in (pygame.K_SPACE, pygame.K_RETURN, pygame.K_KP_ENTER):
        return Action("primary")
    if event.key in NUMBER_KEYS:
        return Action("pick", index=NUMBER_KEYS[event.key])
    if event.key == pygame.K_l:
        return Action("language")
    if event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
        return Action("back")
    return None


class GpioButton:
    """The big arcade button via gpiozero (a Pi only); absent library or pin → silently ignored."""

    def __init__(self, pin: int = 17):
        self._button = None
        try:
            from gpiozero import Button  # lazy: only on a Pi

            self._button = Button(pin, bounce_time=0.05)
            self._button.when_pressed = lambda: pygame.event.post(pygame.event.Event(GPIO_EVENT))
            log.info("arcade button on GPIO%d", pin)
        except Exception as err:  # noqa: BLE001 - gpiozero raises many kinds when there is no GPIO; all mean "no button"
            log.debug("no GPIO button: %s", err)

    def close(self) -> None:
        if self._button is not None:
            self._button.close()
