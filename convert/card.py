"""Model card (Markdown + JSON) written next to a converted model."""

from __future__ import annotations

import json
import math
from pathlib import Path

from edge.labels import EMOTIONS
from edge.views import TestTimeViews

LIMITS = """\
- FER2013 faces were scraped from the web by keyword search: mostly frontal, posed-looking, adult,
  skewed in age and ethnicity, 48×48 grayscale. Expect lower accuracy on children, older people,
  under-represented groups, side views, glasses/masks and poor light.
- Labels are single-annotator and noisy (humans agree with them ≈ 65 ± 5 % of the time); 57 pixel-
  identical groups carry conflicting labels. Disgust is rare (1.5 % of training images).
- 568 validation images have a pixel-identical copy in train; accuracy without them is reported apart.
- It reads a facial *expression*, not a feeling: a posed smile is "happy"."""

USE = """\
An expression game for a museum or classroom exhibit: visitors show an expression and the exhibit
answers with a character and an activity. Not for judging anyone's feelings, not for decisions about
people, not for workplaces or (in the EU) education institutions as emotion recognition (AI Act Art.
5(1)(f)); show the privacy notice; store no images."""


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _weak_classes(validation: dict) -> str:
    # rounded down: 61 of 111 (0.5495) must not print as "0.55" in a list of recalls below 0.55
    weak = [f"{e} {math.floor(validation['per_class'][e]['recall'] * 1000) / 1000:.3f}" for e in EMOTIONS
            if validation["per_class"][e]["recall"] < 0.55]
    if not weak:
        return "- Every class has recall ≥ 0.55 on validation."
    return f"- Classes this model often misses (recall < 0.55 on validation): {', '.join(weak)}."


def _training_lines(facts: dict) -> list[str]:
    """Epochs and time of the run, or of each member of a merged model; then the whole recipe's hours."""
    def run_line(f: dict) -> str:
        taught = f" distilled from {', '.join(f['teachers'])};" if f.get("teachers") else ""
        # a refit has no holdout: its checkpoint is the schedule's last epoch, not a choice
        checkpoint = ("last epoch kept, no holdout" if f.get("holdout_images") == 0
                      else f"best holdout epoch {f.get('best_epoch', '?')}")
        return (f"{f.get('epochs', '?')} epochs ({checkpoint}),{taught} {f.get('train_hours', 0):.2f} h on "
                f"{f.get('machine', '?')}")

    members = facts.get("members") or []
    if members:
        shares = _uneven_shares(members)
        lines = [f"- Member `{m.get('run_id', '?')}` (preset `{m.get('preset', '?')}`): {run_line(m)}"
                 + (f"; fitted on {m.get('train_images', '?')} images, {m.get('holdout_images', '?')} held out"
                    if shares else "") + "." for m in members]
    else:
        lines = [f"- Training: {run_line(facts)}."]
    if facts.get("recipe_hours", 0) > facts.get("train_hours", 0) + 1e-9:
        lines.append(f"- Training behind this file, every run it was made from counted once: "
                     f"{facts['recipe_hours']:.2f} h.")
    return lines


def input_line(spec: dict) -> str:
    """What the file takes in: int8 files take pixel − 128 (input scale 1, zero-point −128, convert/quantize.py);
    float16, dynamic-range and float32 files keep a float32 input tensor and take the pixels as they are."""
    size = f"{spec['input_size']}×{spec['input_size']}"
    if spec["quantization"] == "int8":
        return (f"- Input: {size} grayscale, raw pixels 0–255 (the network rescales inside; int8 input = "
                "pixel − 128).")
    return f"- Input: {size} grayscale, raw pixels 0–255 as float32 (the network rescales inside)."


def accuracy_heading(spec: dict, validation_images: int) -> str:
    return f"## Accuracy (this file, {spec['quantization']}, on the {validation_images:,} FER2013 validation images)"


def card_files(model: Path) -> tuple[Path, Path, Path]:
    """The card (.md), its facts (.json) and its confusion matrix (.png) that go beside MODEL."""
    return model.with_suffix(".md"), model.with_suffix(".json"), model.with_name(f"{model.stem}-confusion.png")


def write_card(out_model: Path, info: dict, shown_as: Path | None = None) -> tuple[Path, Path]:
    """info: spec, verify result, bench result, training facts. Writes <model>.md and <model>.json beside
    OUT_MODEL; the card names the file SHOWN_AS (default OUT_MODEL: where it is when written elsewhere first)."""
    md_path, json_path, _ = card_files(out_model)
    json_path.write_text(json.dumps(info, indent=2, default=str))
    md_path.write_text(card_markdown(shown_as or out_model, info))
    return md_path, json_path


def card_markdown(out_model: Path, info: dict) -> str:
    """The model card of OUT_MODEL (see write_card's `info`)."""
    v = info["verify"]["tflite"]
    mode = info["spec"]["quantization"]
    heading = accuracy_heading(info["spec"], v["validation"]["n"])
    lines = [
        f"# Model card: {info['spec']['name']} {info['spec']['version']}",
        "",
        f"File `{out_model.name}` ({info['bench']['size_kb']:.0f} KB, {info['spec']['quantization']}), "
        f"made by `emotions-convert` from run `{info['spec']['run_id'] or 'unknown'}`.",
        "",
        "## Training",
        _data_line(info["training"]),
        f"- Preset: `{info['training'].get('preset', '?')}` — {info['training'].get('description', '')}",
        *_training_lines(info["training"]),
        *_adjustment_lines(info["training"].get("adjustment")),
        "",
        heading,
        "",
        "| split | images | accuracy | macro-F1 |",
        "|---|---:|---:|---:|",
    ]
    for key, title in [("validation", "validation (Public+PrivateTest)"), ("private_test", "PrivateTest"),
                       ("public_test", "PublicTest"), ("validation_dedup", "validation without train duplicates")]:
        lines.append(f"| {title} | {v[key]['n']} | {_pct(v[key]['accuracy'])} | {v[key]['macro_f1']:.3f} |")
    lines += ["", "Per-class recall / precision (validation):", "", "| class | recall | precision | support |",
              "|---|---:|---:|---:|"]
    for e in EMOTIONS:
        pc = v["validation"]["per_class"][e]
        lines.append(f"| {e} | {pc['recall']:.2f} | {pc['precision']:.2f} | {pc['support']} |")
    lines += ["", f"![confusion matrix]({card_files(out_model)[2].name})", ""]
    if "keras" in info["verify"]:
        k = info["verify"]["keras"]["validation"]["accuracy"]
        lines.append(f"Float Keras model: {_pct(k)}; {mode} difference "
                     f"{-info['verify']['accuracy_drop_points']:+.2f} points.")
    if "other_mode" in info:
        views = TestTimeViews.from_extra(info["spec"].get("extra", {}))
        other = info["other_mode"]
        at = lines.index(heading) + 1
        lines.insert(at, f"\nTest-time views (recorded in the file): {views.describe()}." + (
            " Each face's answers are averaged over them: `emotions classify` does this for every image; on a live "
            "stream the exhibit classifies each frame on the next view in turn and its smoothing averages them, "
            "for the cost of one pass per frame." if views.count > 1 else ""))
        lines.append(f"With {info.get('other_mode_views', 'the other mode')}: "
                     f"{_pct(other['validation']['accuracy'])} validation, "
                     f"{_pct(other['private_test']['accuracy'])} PrivateTest.")
    b = info["bench"]
    lines += [
        "",
        "## Speed",
        f"- {b['latency_ms_median']:.3f} ms median, {b['latency_ms_p95']:.3f} ms p95 per face "
        f"({b.get('passes_per_face', 1)} pass{'es' if b.get('passes_per_face', 1) > 1 else ''}), 1 thread, "
        f"{b['runtime']}, {b['runs']} runs (`emotions-convert bench {out_model}`); peak RSS {b['peak_rss_mb']:.0f} MB.",
        "- A Raspberry Pi 4 core is roughly 4–7× slower than this workstation core.",
        "",
        "## Inputs and outputs (carried inside the file's metadata)",
        input_line(info["spec"]),
        f"- Output: probabilities for {', '.join(EMOTIONS)}.",
        f"- Face crop: square of side {info['spec']['crop']['scale']:.3f} × max(box w, h), centre shifted by "
        f"({info['spec']['crop']['dx']:+.3f} w, {info['spec']['crop']['dy']:+.3f} h), fitted for detector "
        f"`{info['spec']['crop']['detector']}`"
        + ("; where the detector gives eyes, nose and mouth, the centre is placed from them instead (a fitted "
           "linear map, `keypoint_centre` in the metadata)." if info["spec"]["crop"].get("keypoint_centre") else "."),
        "",
        "## Known limits",
        _weak_classes(v["validation"]),
        LIMITS,
        "",
        "## Intended use",
        USE,
        "",
        f"Reproduce: `{info.get('command', '')}`",
        "",
    ]
    return "\n".join(lines)


def _uneven_shares(members: list[dict]) -> bool:
    """True when a merge's members fitted on different shares of train (one of them a refit on all of it)."""
    return len({(m.get("train_images"), m.get("holdout_images")) for m in members}) > 1


def _data_line(training: dict) -> str:
    never = "the validation split below was never used for a choice"
    if _uneven_shares(training.get("members") or []):
        total = max(m.get("train_images") or 0 for m in training["members"])
        return (f"- Data: FER2013 train split ({total} images; the members below fitted on different shares of it; "
                f"{never}).")
    if training.get("holdout_images") == 0:
        return (f"- Data: FER2013 train split ({training.get('train_images', '?')} images, all used for fitting: a "
                f"refit with the recipe's choices fixed, nothing held out; {never}).")
    return (f"- Data: FER2013 train split ({training.get('train_images', '?')} images used for fitting, "
            f"{training.get('holdout_images', '?')} held out for early stopping and choices; {never}).")


def _holdout_change(before: dict, after: dict) -> str:
    return (f"accuracy {_pct(before['accuracy'])} → {_pct(after['accuracy'])}, macro-F1 {before['macro_f1']:.3f} → "
            f"{after['macro_f1']:.3f}, disgust recall {before['recall']['disgust']:.2f} → "
            f"{after['recall']['disgust']:.2f}")


def _adjustment_lines(adjust: dict | None) -> list[str]:
    if not adjust:
        return []
    offsets = ", ".join(f"{k} {v:+.2f}" for k, v in adjust["offsets"].items())
    if adjust["mode"] == "copied":  # a refit has no holdout of its own to fit offsets on
        source = adjust.get("fitted_in", {})
        line = (f"- Class-bias adjustment (`emotions-train adjust --offsets-from`): logit offsets {offsets}, copied "
                f"from run `{source.get('run_id', '?')}` and folded into the last layer's bias (same size and speed)")
        if "holdout_before" in source:
            line += (f"; fitted there ({source.get('mode', '?')}, objective {source.get('objective', '?')}) on its "
                     f"holdout: {_holdout_change(source['holdout_before'], source['holdout_after'])}")
        return [line + "."]
    return [
        f"- Class-bias adjustment (`emotions-train adjust`, {adjust['mode']}, objective {adjust['objective']}): "
        f"logit offsets {offsets}, fitted on the holdout and folded into the last layer's bias (same size and "
        f"speed). Holdout: {_holdout_change(adjust['holdout_before'], adjust['holdout_after'])}."
    ]
