"""Background music with crossfades: each scene names a track; switching fades the old one out
while the new one fades in on a second channel. Silent (with one log line) when there is no audio."""

from __future__ import annotations

import logging
from pathlib import Path

import pygame

from edge.ui import music_synth

log = logging.getLogger(__name__)

# Emotion → soundtrack; neutral and surprise share the calm loop.
TRACK_FOR: dict[str, str] = {
    "happy": "happy", "sad": "sad", "angry": "angry", "fear": "fear", "disgust": "disgust",
    "neutral": "calm", "surprise": "calm",
}


class MusicPlayer:
    def __init__(self, volume: float = 0.6, folder: Path | None = None, fade_ms: int = 1200):
        self.volume = max(0.0, min(1.0, volume))
        self.fade_ms = fade_ms
        self.current: str | None = None
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        self._channel: pygame.mixer.Channel | None = None
        self.enabled = False
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=music_synth.RATE, size=-16, channels=2, buffer=2048)
            pygame.mixer.set_num_channels(max(8, pygame.mixer.get_num_channels()))
            self._paths = music_synth.ensure_tracks(folder)
            self.enabled = True
            for name in self._paths:  # all at start: no stall on a scene change, and memory is known from then on
                self._sound(name)
        except (pygame.error, OSError) as err:  # no sound card, read-only cache: the exhibit runs silent
            log.warning("music disabled: %s", err)
            self._paths = {}

    def _sound(self, name: str) -> pygame.mixer.Sound | None:
        if name not in self._sounds and name in self._paths:
            try:
                self._sounds[name] = pygame.mixer.Sound(str(self._paths[name]))
            except (pygame.error, OSError) as err:
                log.warning("cannot load music %s: %s", self._paths[name], err)
                self._paths.pop(name)
                return None
        return self._sounds.get(name)

    def play(self, name: str | None) -> None:
        """Crossfade to track `name` (None = fade to silence); the same track keeps playing."""
        if not self.enabled:
            self.current = name  # remembered so tests and logs can see the intended track
            return
        if name == self.current:
            return
        old = self._channel
        if old is not None:
            old.fadeout(self.fade_ms)
        self._channel = None
        self.current = name
        sound = self._sound(name) if name else None
        if sound is None:
            return
        sound.set_volume(self.volume)
        self._channel = sound.play(loops=-1, fade_ms=self.fade_ms)

    @property
    def playing(self) -> bool:
        return bool(self._channel is not None and self._channel.get_busy())

    def stop(self) -> None:
        if self.enabled:
            pygame.mixer.stop()
        self._channel = None
        self.current = None
