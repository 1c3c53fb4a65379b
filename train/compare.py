"""`emotions-train compare`: the table the original study made by hand, from run folders."""

from __future__ import annotations

import json
from pathlib import Path


def run_row(run: Path) -> dict:
    """One table row: a training run (config.json), or an `emotions-train evaluate -o DIR` folder such as an
    ensemble's (metrics.json only), which has no preset, epochs or hours."""
    has_config, has_metrics = (run / "config.json").exists(), (run / "metrics.json").exists()
    if not has_config and not has_metrics:
        raise FileNotFoundError(f"not a run or evaluation folder (no config.json, no metrics.json): {run}")
    config = json.loads((run / "config.json").read_text()) if has_config else None
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").exists() else {}
    metrics = json.loads((run / "metrics.json").read_text()) if has_metrics else None
    row = {
        "run": run.name,
        "preset": config["preset"]["name"] if config else "—",
        # no state.json: an evaluation or a merge of other runs, which trained nothing itself
        "epochs": state.get("epoch", float("nan")),
        "hours": state.get("train_seconds", float("nan")) / 3600,
        "val_accuracy": float("nan"),
        "macro_f1": float("nan"),
        "private_accuracy": float("nan"),
        "disgust_recall": float("nan"),
        "flip_val_accuracy": float("nan"),
    }
    if metrics:
        plain = metrics["plain"]
        row.update(
            val_accuracy=plain["validation"]["accuracy"],
            macro_f1=plain["validation"]["macro_f1"],
            private_accuracy=plain["private_test"]["accuracy"],
            disgust_recall=plain["validation"]["per_class"]["disgust"]["recall"],
        )
        if "flip_tta" in metrics:
            row["flip_val_accuracy"] = metrics["flip_tta"]["validation"]["accuracy"]
    return row


COLUMNS = [
    ("run", "run", "{}"),
    ("preset", "preset", "{}"),
    ("epochs", "epochs", "{}"),
    ("hours", "hours", "{:.2f}"),
    ("val_accuracy", "val acc", "{:.2%}"),
    ("macro_f1", "macro-F1", "{:.3f}"),
    ("private_accuracy", "PrivateTest acc", "{:.2%}"),
    ("disgust_recall", "disgust recall", "{:.2f}"),
    ("flip_val_accuracy", "val acc (flip TTA)", "{:.2%}"),
]


def format_table(rows: list[dict], markdown: bool = False) -> str:
    cells = [[title for _, title, _ in COLUMNS]]
    for row in rows:
        cells.append([("—" if row[k] != row[k] else fmt.format(row[k])) for k, _, fmt in COLUMNS])
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        lines.insert(1, "|" + "|".join("---" for _ in COLUMNS) + "|")
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells)


def compare(runs: list[Path], plot: Path | None = None, markdown: bool = False) -> str:
    rows = [run_row(r) for r in runs]
    if plot:
        from train.plots import plot_comparison

        plot_comparison(rows, plot)
    return format_table(rows, markdown)
