"""Learning-curve, confusion-matrix and comparison plots (matplotlib, headless)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from edge.labels import EMOTIONS  # noqa: E402


def plot_history(history_csv: Path, out: Path) -> None:
    if not history_csv.exists():
        return
    with history_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return
    epoch = [int(r["epoch"]) for r in rows]

    def col(key):
        return [float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows]

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epoch, col("loss"), label="train")
    ax_loss.plot(epoch, col("val_loss"), label="holdout")
    ax_loss.set(title="loss", xlabel="epoch")
    ax_acc.plot(epoch, col("accuracy"), label="train")
    ax_acc.plot(epoch, col("val_accuracy"), label="holdout")
    ax_acc.set(title="accuracy", xlabel="epoch")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def plot_confusion(matrix: list[list[int]], out: Path, title: str) -> None:
    cm = np.asarray(matrix, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(len(EMOTIONS)):
        for j in range(len(EMOTIONS)):
            ax.text(j, i, f"{norm[i, j]:.2f}\n{int(cm[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def plot_comparison(rows: list[dict], out: Path) -> None:
    names = [r["run"] for r in rows]
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 1.2), 4))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["val_accuracy"] * 100 for r in rows], 0.4, label="validation acc %")
    ax.bar(x + 0.2, [r["private_accuracy"] * 100 for r in rows], 0.4, label="PrivateTest acc %")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
