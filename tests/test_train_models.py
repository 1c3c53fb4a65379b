"""The training nets' shapes: depth per stage, and layer names that committed checkpoints depend on."""

from __future__ import annotations

import json

import pytest
from _data import REPO

pytest.importorskip("tensorflow", reason="training tests need TensorFlow (the train extra)")


def _adds(model) -> int:
    return sum(layer.__class__.__name__ == "Add" for layer in model.layers)


def test_two_blocks_per_stage_double_the_residual_blocks_and_keep_the_first_blocks_names():
    from train.models import compact_resnet

    one = compact_resnet(stem=8, widths=(16, 32))
    two = compact_resnet(stem=8, widths=(16, 32), blocks=2)
    assert (_adds(one), _adds(two)) == (2, 4)
    assert {layer.name for layer in one.layers} < {layer.name for layer in two.layers}
    # the second block of a stage keeps its width, so it needs no projection shortcut
    assert "stage0b1_proj" not in {layer.name for layer in two.layers}
    assert two.output_shape == one.output_shape == (None, 7)


def test_a_committed_one_block_checkpoint_still_matches_the_net_its_config_builds():
    """Weights are restored by layer name (--init-from, merge): a rename would strand every committed run."""
    import keras

    from train.fit import build_model
    from train.presets import Preset

    run = REPO / "runs" / "res48-wide-views24-xlong-s11"
    if not (run / "best.keras").exists():
        pytest.skip(f"{run.name}/best.keras is not in this checkout")
    # the way --resume rebuilds a run's net from its config.json
    built = build_model(Preset.from_dict(json.loads((run / "config.json").read_text())["preset"]), 1)
    saved = keras.models.load_model(run / "best.keras", compile=False)
    assert [layer.name for layer in built.layers] == [layer.name for layer in saved.layers]
    assert built.count_params() == saved.count_params()


def test_the_deep_preset_is_two_blocks_of_32_64_128_at_under_a_million_parameters():
    """Its size was chosen for the merge's latency (docs/experiments.md, res48-deep-views24-xlong-s11)."""
    from train.fit import build_model
    from train.presets import get_preset

    preset = get_preset("res48-deep-views24-xlong")
    model = build_model(preset, 10)
    assert _adds(model) == 6
    assert 0.6e6 < model.count_params() < 0.8e6
