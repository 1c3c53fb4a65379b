"""Generated soundtracks: distinct, non-silent, seamless loops that play on SDL's dummy audio driver."""

from __future__ import annotations

import os
import wave

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from edge.ui import music_synth  # noqa: E402
from edge.ui.music import TRACK_FOR, MusicPlayer  # noqa: E402


def test_every_track_is_audible_distinct_and_loops_smoothly():
    tracks = {name: music_synth.synthesize(name) for name in music_synth.TRACKS}
    fingerprints = []
    for name, x in tracks.items():
        assert x.dtype == np.float32 and 8 * music_synth.RATE <= len(x) <= 30 * music_synth.RATE, name
        assert 0.05 < float(np.sqrt(np.mean(x ** 2))) < 0.5, name
        assert np.max(np.abs(x)) <= 0.71
        assert abs(float(x[-1]) - float(x[0])) < 0.1, name  # no click at the loop point
        spectrum = np.abs(np.fft.rfft(x[: 8 * music_synth.RATE]))
        fingerprints.append(spectrum / np.linalg.norm(spectrum))
    for i in range(len(fingerprints)):
        for j in range(i + 1, len(fingerprints)):
            assert float(fingerprints[i] @ fingerprints[j]) < 0.9  # each emotion sounds different
    assert set(TRACK_FOR.values()) <= set(music_synth.TRACKS)


def test_cli_writes_wav_files(tmp_path):
    assert music_synth.main(["--out", str(tmp_path), "sad", "happy"]) == 0
    path = music_synth.track_path("sad", tmp_path)
    with wave.open(str(path)) as w:
        assert w.getframerate() == music_synth.RATE and w.getnchannels() == 1 and w.getnframes() > 0
    assert music_synth.main(["--out", str(tmp_path), "nope"]) == 2


def test_player_crossfades_between_tracks_on_the_dummy_driver(tmp_path):
    pygame.mixer.quit()
    player = MusicPlayer(0.5, folder=tmp_path, fade_ms=50)
    assert player.enabled
    player.play("attract")
    assert player.current == "attract" and player.playing
    first = player._channel
    player.play("attract")  # the same track keeps playing, no restart
    assert player._channel is first
    player.play("fear")
    assert player.current == "fear" and player._channel is not first and player.playing
    player.stop()
    assert player.current is None
