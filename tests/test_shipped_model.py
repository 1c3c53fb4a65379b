"""The shipped model's recorded accuracy, measured again by the edge's own classifier on every validation face:
the numbers in its metadata (and so in README and the card) are what a device running this file would score."""

from __future__ import annotations

import numpy as np
import pytest
from _data import DATA_ROOT, REPO, requires_data

from edge.classify import Classifier, ClassifierOptions
from edge.labels import EMOTIONS
from edge.modelfile import read_spec

SHIPPED = REPO / "assets" / "models" / "emotion.tflite"


@pytest.fixture(scope="module")
def validation() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, is PrivateTest) of the whole validation split, each JPEG decoded by OpenCV."""
    import cv2

    files = [(path, label) for label, emotion in enumerate(EMOTIONS)
             for path in sorted((DATA_ROOT / "validation" / emotion).iterdir())]
    images = np.stack([cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path, _ in files])
    labels = np.array([label for _, label in files])
    private = np.array([path.name.startswith("PrivateTest") for path, _ in files])
    return images, labels, private


@requires_data
def test_the_shipped_models_recorded_accuracy_is_what_the_edge_classifier_measures(validation):
    images, labels, private = validation
    assert len(labels) == 7178 and private.sum() == 3589  # the FER2013 split the README describes
    spec = read_spec(SHIPPED)
    predicted = Classifier(ClassifierOptions(model=SHIPPED)).predict(images).argmax(axis=1)
    right = predicted == labels
    # Metadata rounds to 4 places; a different runtime may break an exact int8 tie the other way (README).
    assert abs(right.mean() - spec.metrics["validation_accuracy"]) <= 0.0005
    assert abs(right[private].mean() - spec.metrics["private_test_accuracy"]) <= 0.0005
    recalls = [right[labels == k].mean() for k in range(len(EMOTIONS))]
    assert min(recalls) >= 0.55  # issue 7's floor for every class, which the card reports as met
