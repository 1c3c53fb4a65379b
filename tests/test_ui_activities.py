"""Each activity's logic on its own: dance scoring, breathing timing, dialogue trees, ink blots, support bot."""

from __future__ import annotations

import numpy as np
import pytest

from edge.ui.activities.breathing import BreathingPlan
from edge.ui.activities.dance import MOVES, DanceScorer, choreography
from edge.ui.activities.mentor import tree_problems
from edge.ui.activities.rorschach import RorschachGame
from edge.ui.activities.support import BREATH_S, BREATHS, SupportBot
from edge.ui.art import generate_blot
from edge.ui.i18n import LANGUAGES, Content

H, W = 240, 320
FACE = (140, 50, 40, 40)  # x, y, w, h in the raw (unmirrored) camera image


def frame_with_patch(x: int, y: int, size: int = 24) -> np.ndarray:
    gray = np.full((H, W), 90, np.uint8)
    gray[y:y + size, x:x + size] = 230
    return gray


def wave(scorer: DanceScorer, x: int, y0: int, frames: int = 8, box=FACE) -> None:
    """A bright hand moving up and down at column x of the raw image."""
    for i in range(frames):
        scorer.feed(frame_with_patch(x, y0 + (30 if i % 2 else 0)), box)


def test_waving_on_the_visitors_screen_left_scores_wave_left_only():
    # the preview is mirrored, so the screen-left arm shows up right of the face in the raw image
    scorer = DanceScorer()
    wave(scorer, x=FACE[0] + FACE[2] + 50, y0=30)
    ev = scorer.evidence()
    assert ev["left"] > 0.06 and ev["right"] < 0.01
    assert scorer.matches("wave_left", ev) and not scorer.matches("wave_right", ev)
    assert not scorer.matches("jump", ev)
    assert scorer.end_beat("wave_left") and scorer.score == 10 and scorer.combo == 1


def test_waving_on_the_other_side_scores_wave_right():
    scorer = DanceScorer()
    wave(scorer, x=FACE[0] - 80, y0=30)
    assert scorer.end_beat("wave_right")
    wave(scorer, x=FACE[0] - 80, y0=30)
    assert not scorer.end_beat("wave_left")
    assert scorer.combo == 0 and scorer.hits == 1 and scorer.beats == 2


def test_clap_is_motion_in_front_of_the_chest():
    scorer = DanceScorer()
    wave(scorer, x=FACE[0] + 8, y0=FACE[1] + 60)
    assert scorer.end_beat("clap")


def test_jump_is_vertical_face_motion_and_a_still_visitor_scores_nothing():
    scorer = DanceScorer()
    still = np.full((H, W), 90, np.uint8)
    for i in range(8):
        x, y, w, h = FACE
        scorer.feed(still, (x, y + (18 if i % 2 else 0), w, h))
    assert scorer.end_beat("jump")
    for _ in range(8):
        scorer.feed(still, FACE)
    for move in MOVES:
        assert not scorer.matches(move, scorer.evidence()), move


def test_spin_counts_when_the_face_is_lost_while_the_body_moves():
    scorer = DanceScorer()
    for i in range(8):
        gray = frame_with_patch(FACE[0] - 70, 40 + (30 if i % 2 else 0))
        scorer.feed(gray, FACE if i < 2 else None)
    assert scorer.end_beat("spin")


def test_combo_multiplies_points():
    scorer = DanceScorer()
    for _ in range(8):
        wave(scorer, x=FACE[0] + FACE[2] + 50, y0=30)
        scorer.end_beat("wave_left")
    assert scorer.best_combo == 8
    assert scorer.score == 10 * 3 + 20 * 4 + 30 * 1  # ×2 from the 4th hit, ×3 from the 8th


def test_choreography_is_seeded_and_never_repeats_a_move_back_to_back():
    a, b = choreography(5, 30), choreography(5, 30)
    assert a == b and len(a) == 10 and set(a) <= set(MOVES)
    assert all(x != y for x, y in zip(a, a[1:]))
    assert choreography(6, 30) != a


def test_breathing_phases_follow_4_2_4_timing():
    plan = BreathingPlan(4.0, 2.0, 4.0, 180.0)
    assert plan.phase_at(0.0) == ("inhale", 0.0, 1)
    assert plan.phase_at(3.9)[0] == "inhale"
    assert plan.phase_at(4.0)[:1] == ("hold",)
    assert plan.phase_at(5.99)[0] == "hold"
    phase, progress, n = plan.phase_at(8.0)
    assert phase == "exhale" and progress == pytest.approx(0.5) and n == 1
    assert plan.phase_at(10.0) == ("inhale", 0.0, 2)
    assert plan.size_at(0.0) == pytest.approx(0.0) and plan.size_at(5.0) == 1.0 and plan.size_at(9.99) < 0.01
    assert not plan.done(179.9) and plan.done(180.0)
    assert BreathingPlan(4, 2, 4, 95).done(100.0) and not BreathingPlan(4, 2, 4, 95).done(99.0)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_dialogue_tree_reaches_an_end_from_every_node(lang):
    nodes = Content(lang).get("fear.mentor.nodes")
    assert tree_problems(nodes) == []
    ends = {k for k, n in nodes.items() if n.get("end")}
    for start in nodes:  # breadth-first from each node
        seen, todo = {start}, [start]
        while todo:
            for opt in nodes[todo.pop()].get("options", []):
                if opt["next"] not in seen:
                    seen.add(opt["next"])
                    todo.append(opt["next"])
        assert seen & ends, start


def test_tree_problems_finds_loops_and_dangling_links():
    loop = {"start": {"text": "a", "options": [{"text": "x", "next": "b"}]},
            "b": {"text": "b", "options": [{"text": "y", "next": "start"}]},
            "end": {"text": "e", "end": True, "options": []}}
    assert any("never reach an end" in p for p in tree_problems(loop))
    dangling = {"start": {"text": "a", "options": [{"text": "x", "next": "nowhere"}]}}
    problems = tree_problems(dangling)
    assert any("unknown node 'nowhere'" in p for p in problems) and any("no node with end" in p for p in problems)


def test_blots_are_deterministic_symmetric_and_different_per_seed():
    a = generate_blot(42, (120, 100))
    assert a.shape == (100, 120) and a.dtype == np.float32
    assert np.array_equal(a, generate_blot(42, (120, 100)))
    assert np.array_equal(a, a[:, ::-1])
    assert 0.1 < a.mean() < 0.7  # an ink blot, not an empty or black card
    b = generate_blot(43, (120, 100))
    assert np.abs(a - b).mean() > 0.05
    odd = generate_blot(1, (121, 80))
    assert odd.shape == (80, 121) and np.array_equal(odd, odd[:, ::-1])


def test_rorschach_game_plan_is_seeded_and_collects_three_picks():
    ids = [f"o{i}" for i in range(10)]
    g1, g2 = RorschachGame(ids, 9), RorschachGame(ids, 9)
    assert g1.seeds == g2.seeds and g1.offers == g2.offers
    assert RorschachGame(ids, 10).seeds != g1.seeds
    assert all(len(set(o)) == 4 for o in g1.offers)
    for choice in (0, 3, 1):
        g1.pick(choice)
    assert g1.finished and g1.picks == [g1.offers[0][0], g1.offers[1][3], g1.offers[2][1]]
    g1.pick(0)
    assert len(g1.picks) == 3


def test_support_bot_modes_return_to_the_menu():
    bot = SupportBot(affirmation_count=8, meditation_steps=5, seed=1)
    assert bot.options() == ["breathing", "affirmation", "meditation", "better"]
    bot.choose("breathing")
    bot.update(BREATHS * 2 * BREATH_S - 0.1)
    assert bot.mode == "breathing"
    bot.update(0.2)
    assert bot.mode == "menu" and bot.messages[-2][1] == "sadness.support.breathing_done"
    bot.choose("affirmation")
    first = bot.last_affirmation
    bot.choose("another")
    assert bot.last_affirmation != first  # never the same kind words twice in a row
    bot.choose("meditation")
    bot.update(7.5)
    assert ("bot", "sadness.support.meditation_steps.1") in bot.messages
    bot.update(30)
    assert bot.mode == "menu"
    bot.choose("better")
    assert bot.options() == ["finish"] and len(bot.messages) == 3
