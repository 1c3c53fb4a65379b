"""The one class list. Train, convert and edge all import it from here.

The order is the FER2013 folder order and the order of the model's output vector.
A model file carries its own copy in its metadata; `edge.modelfile` refuses a model
whose copy disagrees with this one.
"""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# Colour per emotion (RGB) for the UI and plots: joy yellow, sadness blue, anger red,
# fear purple, disgust green; neutral grey and surprise orange.
COLOURS: dict[str, tuple[int, int, int]] = {
    "angry": (220, 50, 47),
    "disgust": (76, 175, 80),
    "fear": (142, 68, 173),
    "happy": (255, 204, 0),
    "neutral": (150, 150, 150),
    "sad": (52, 120, 220),
    "surprise": (255, 140, 0),
}


def index_of(emotion: str) -> int:
    """Position of `emotion` in the model output; ValueError names the allowed values."""
    try:
        return EMOTIONS.index(emotion)
    except ValueError:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}") from None
