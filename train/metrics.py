"""Classification metrics in plain numpy, shared by training, evaluation and conversion checks."""

from __future__ import annotations

import numpy as np

from edge.labels import EMOTIONS


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n: int = len(EMOTIONS)) -> np.ndarray:
    """Rows are true classes, columns predicted."""
    return np.bincount(labels * n + predicted, minlength=n * n).reshape(n, n)


def summarize(labels: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""
    predicted = probs.argmax(axis=1)
    cm = confusion_matrix(labels, predicted)
    true_count = cm.sum(axis=1)
    pred_count = cm.sum(axis=0)
    tp = np.diag(cm).astype(float)
    recall = np.divide(tp, true_count, out=np.zeros_like(tp), where=true_count > 0)
    precision = np.divide(tp, pred_count, out=np.zeros_like(tp), where=pred_count > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "n": int(len(labels)),
        "accuracy": float(tp.sum() / max(len(labels), 1)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            e: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                "support": int(true_count[i])}
            for i, e in enumerate(EMOTIONS)
        },
        "confusion_matrix": cm.tolist(),
    }


def evaluation_report(labels: np.ndarray, probs: np.ndarray, private: np.ndarray, leaked: np.ndarray) -> dict:
    """Metrics on the whole validation split, on PrivateTest alone, and without train duplicates."""
    return {
        "validation": summarize(labels, probs),
        "private_test": summarize(labels[private], probs[private]),
        "public_test": summarize(labels[~private], probs[~private]),
        "validation_dedup": summarize(labels[~leaked], probs[~leaked]),
    }


def headline(report: dict) -> str:
    v, p = report["validation"], report["private_test"]
    disgust = v["per_class"]["disgust"]["recall"]
    return (
        f"validation acc {v['accuracy']:.2%}  macro-F1 {v['macro_f1']:.3f}  disgust recall {disgust:.2f}  "
        f"PrivateTest acc {p['accuracy']:.2%}  dedup acc {report['validation_dedup']['accuracy']:.2%}"
    )
