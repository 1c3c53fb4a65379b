"""Class-bias offsets: fitted on data where a rare class is under-predicted, they must help it;
folded into a real Keras model, they must equal adding them to its logits."""

from __future__ import annotations

import numpy as np
import pytest

from train.adjust import MODES, apply_offsets, best_mode, cross_validate_modes, fit_offsets, train_copies
from train.metrics import summarize


def skewed_predictions(seed: int = 0, n: int = 10000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """7 classes, class 1 rare (2 %); a model whose scores for class 1 are systematically too low."""
    rng = np.random.default_rng(seed)
    prior = np.array([0.14, 0.02, 0.14, 0.25, 0.17, 0.16, 0.12])
    labels = rng.choice(7, size=n, p=prior)
    logits = rng.normal(0, 1, (n, 7))
    logits[np.arange(n), labels] += 2.0
    logits[:, 1] -= 2.5  # the bias a skewed training set leaves
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return labels, probs, prior * n


@pytest.mark.parametrize("mode", ["prior", "per-class", "bagged"])
def test_offsets_raise_macro_f1_and_the_rare_class_on_unseen_data(mode):
    labels, probs, counts = skewed_predictions(0)
    offsets = fit_offsets(labels, probs, counts, mode=mode)
    test_labels, test_probs, _ = skewed_predictions(1)  # fitted on one sample, judged on another
    before = summarize(test_labels, test_probs)
    after = summarize(test_labels, apply_offsets(np.log(test_probs), offsets))
    assert after["macro_f1"] > before["macro_f1"] + 0.02
    assert after["per_class"]["disgust"]["recall"] > before["per_class"]["disgust"]["recall"] + 0.2
    assert offsets[1] == offsets.max()  # the rare class is the one pushed up


def test_bagged_offsets_are_the_mean_of_bootstrap_fits_and_vary_less():
    labels, probs, counts = skewed_predictions(0, n=1500)  # small, like a real holdout: per-class is noisy
    bagged = fit_offsets(labels, probs, counts, mode="bagged", bags=6, seed=4)
    rng = np.random.default_rng(4)
    fits = []
    for _ in range(6):
        pick = rng.integers(0, len(labels), len(labels))
        fits.append(fit_offsets(labels[pick], probs[pick], counts, mode="per-class"))
    np.testing.assert_allclose(bagged, np.mean(fits, axis=0), atol=1e-6)
    assert np.std(fits, axis=0).max() > 0.05  # the single fits really differ, so averaging does something


def test_cross_validation_scores_each_mode_on_faces_it_was_not_fitted_on():
    labels, probs, counts = skewed_predictions(2, n=3000)
    scores = cross_validate_modes(labels, probs, counts, modes=("prior", "per-class"), repeats=2)
    assert set(scores) == {"prior", "per-class"}
    in_sample = summarize(labels, apply_offsets(np.log(probs), fit_offsets(labels, probs, counts, "per-class")))
    # out of fold, per-class offsets lose some of what they won in-sample: scored on the fitting half they would not
    assert scores["per-class"]["macro_f1"] < in_sample["macro_f1"]
    none = summarize(labels, probs)["macro_f1"]
    assert all(s["macro_f1"] > none + 0.02 for s in scores.values())  # and still help on unseen faces
    # per-class recall out of fold: the rare class (1) is found more with offsets than without them
    plain = summarize(labels, probs)["per_class"]
    recall = scores["prior"]["recall"]
    assert set(recall) == set(plain) and recall["disgust"] > plain["disgust"]["recall"]


def test_no_bias_needs_no_offsets():
    rng = np.random.default_rng(3)
    labels = rng.choice(7, size=3000)
    logits = rng.normal(0, 1, (3000, 7))
    logits[np.arange(3000), labels] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    offsets = fit_offsets(labels, probs, np.full(7, 1.0), mode="prior")
    assert np.allclose(offsets, 0)  # uniform prior: log-prior offsets are zero whatever tau is


def test_auto_leaves_unbiased_predictions_as_they_are():
    rng = np.random.default_rng(3)
    labels = rng.choice(7, size=200)  # a small holdout: per-class offsets can only fit its noise
    logits = rng.normal(0, 1, (200, 7))
    logits[np.arange(200), labels] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    counts = np.full(7, 100.0)
    scores = cross_validate_modes(labels, probs, counts, repeats=2)
    assert set(scores) == set(MODES)
    for fitted in ("per-class", "bagged"):  # the noise they fitted on one half did not carry over to the other
        assert scores["none"]["macro_f1"] > scores[fitted]["macro_f1"] + 0.02
    assert scores["prior"] == scores["none"]  # a uniform prior gives zero offsets: a tie, which none wins
    assert best_mode(scores) == "none"
    assert not fit_offsets(labels, probs, counts, mode="none").any()


def test_a_biased_model_gets_offsets_from_auto():
    labels, probs, counts = skewed_predictions(2, n=3000)
    assert best_mode(cross_validate_modes(labels, probs, counts, repeats=2)) != "none"


def test_bad_mode_and_objective_are_refused():
    labels, probs, counts = skewed_predictions()
    with pytest.raises(ValueError, match="mode"):
        fit_offsets(labels, probs, counts, mode="magic")
    with pytest.raises(ValueError, match="objective"):
        fit_offsets(labels, probs, counts, objective="accuracy!")


def test_offsets_folded_into_a_keras_model_equal_adding_them_to_the_logits():
    pytest.importorskip("tensorflow", reason="folding needs Keras (the train extra)")
    from train.adjust import fold_into_model
    from train.models import tiny_cnn

    model = tiny_cnn()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")  # as a trained model comes back from disk
    x = np.random.default_rng(0).integers(0, 256, (16, 48, 48, 1)).astype(np.float32)
    offsets = np.array([0.3, 1.2, -0.4, 0.0, -0.2, 0.1, -1.0], np.float32)
    adjusted = fold_into_model(model, offsets)
    expected = apply_offsets(np.log(model.predict(x, verbose=0)), offsets)
    assert np.allclose(adjusted.predict(x, verbose=0), expected, atol=1e-5)
    assert np.allclose(model.layers[-1].get_weights()[1], 0)  # the original is untouched
    assert not adjusted.compiled  # so its file carries no optimizer state (half the size)


def test_targets_objective_charges_each_class_its_shortfall_under_the_floors():
    from edge.labels import EMOTIONS
    from train.adjust import targets_score

    metrics = {"macro_f1": 0.7, "per_class": {e: {"recall": 0.8} for e in EMOTIONS}}
    assert targets_score(metrics) == pytest.approx(0.7)
    metrics["per_class"]["fear"]["recall"] = 0.45  # 0.10 under its floor
    metrics["per_class"]["disgust"]["recall"] = 0.58  # 0.02 under disgust's 0.60
    assert targets_score(metrics) == pytest.approx(0.58)


def test_targets_offsets_lift_the_starved_class_to_its_floor():
    labels, probs, counts = skewed_predictions(3, n=6000)
    recall = {}
    for objective in ("macro_f1", "targets"):
        offsets = fit_offsets(labels, probs, counts, "per-class", objective)
        recall[objective] = summarize(labels, apply_offsets(np.log(probs), offsets))["per_class"]
    assert all(r["recall"] >= 0.55 for r in recall["targets"].values())
    assert recall["targets"]["disgust"]["recall"] >= 0.60
    assert recall["macro_f1"]["disgust"]["recall"] < 0.60  # where macro-F1 alone stops on the same faces


def test_issue_objective_weighs_accuracy_beside_the_targets():
    from edge.labels import EMOTIONS
    from train.adjust import OBJECTIVES

    metrics = {"accuracy": 0.7, "macro_f1": 0.6, "per_class": {e: {"recall": 0.8} for e in EMOTIONS}}
    metrics["per_class"]["disgust"]["recall"] = 0.5  # 0.10 under its floor
    assert OBJECTIVES["issue"](metrics) == pytest.approx(0.7 + 0.6 - 0.1)


def test_issue_offsets_keep_more_accuracy_than_targets_offsets():
    from train.adjust import issue_score

    labels, probs, counts = skewed_predictions(3, n=6000)
    scores = {}
    for objective in ("targets", "issue"):
        offsets = fit_offsets(labels, probs, counts, "per-class", objective)
        scores[objective] = summarize(labels, apply_offsets(np.log(probs), offsets))
    assert scores["issue"]["accuracy"] > scores["targets"]["accuracy"]
    assert issue_score(scores["issue"]) >= issue_score(scores["targets"]) - 1e-9  # it fits what it is asked


def test_train_copies_marks_holdout_faces_whose_pixels_are_in_the_training_part():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 48, 48, 1), dtype=np.uint8)
    images[7] = images[2]  # a holdout face copied from a training face
    images[8] = images[9]  # two copies, both held out: neither is in the training part
    holdout = np.zeros(10, bool)
    holdout[[0, 7, 8, 9]] = True
    assert train_copies(images, holdout).tolist() == [False, True, False, False]


def test_fitting_without_memorised_copies_corrects_the_rare_class_more_on_unseen_faces():
    labels, probs, counts = skewed_predictions(3, n=4000)
    rng = np.random.default_rng(99)  # not the labels' seed: the same stream would make every rare face a copy
    # a quarter of the faces are copies of training faces: the net remembers them and is sure of their labels
    copies = rng.random(len(labels)) < 0.25
    probs = probs.copy()
    probs[copies] = 0.01 / 6
    probs[copies, labels[copies]] = 0.99
    fresh = ~copies
    with_copies = cross_validate_modes(labels, probs, counts, ("per-class",), score_mask=fresh, repeats=2)
    without = cross_validate_modes(labels, probs, counts, ("per-class",), fit_mask=fresh, score_mask=fresh,
                                   repeats=2)
    assert without["per-class"]["recall"]["disgust"] > with_copies["per-class"]["recall"]["disgust"] + 0.05
    assert without["per-class"]["macro_f1"] > with_copies["per-class"]["macro_f1"]
    # masks that keep every face are the plain cross-validation, on the same folds
    everyone = np.ones(len(labels), bool)
    assert cross_validate_modes(labels, probs, counts, ("prior",), repeats=1, fit_mask=everyone,
                                score_mask=everyone) == cross_validate_modes(labels, probs, counts, ("prior",),
                                                                             repeats=1)
