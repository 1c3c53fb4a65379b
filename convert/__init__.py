"""Keras → int8 TFLite that carries its own metadata, with accuracy proof, benchmark and model card."""
