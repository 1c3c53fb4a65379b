"""Training pipeline for the emotion classifier (workstation only: needs TensorFlow)."""
