"""Emotions in Action: the device program. Never imports TensorFlow."""

__version__ = "0.1.0"
