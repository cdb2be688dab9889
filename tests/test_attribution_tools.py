"""Ground-truth progress labels (ALFWorld expert) and the ranking metrics."""

from __future__ import annotations

import pytest

from spa_gym.envs.alfworld import Episode, TaskSuite, expert_plan, progress_labels
from spa_gym.progress import ProgressEstimator
from spa_gym.progress.metrics import ranking_auc, within_trajectory_auc
from spa_gym.training import tiny_model_path


def test_progress_labels_follow_the_expert_plan() -> None:
    episode = Episode(TaskSuite("valid_seen").game(11))
    plan = expert_plan(episode)
    actions = ["look", "fly", plan[0], "inventory", *plan[1:]]
    assert progress_labels(episode, actions) == [False, False, True, False] + [True] * (len(plan) - 1)
    assert not episode.won and episode.agent_location == episode.game.initial.agent_location  # untouched


def test_ranking_metrics_exact_values() -> None:
    scores = [[0.9, 0.2, 0.5], [0.4, 0.4]]
    labels = [[True, False, False], [True, False]]
    # positives 0.9, 0.4; negatives 0.2, 0.5, 0.4 -> 0.9 beats 3; 0.4 beats 0.2, ties 0.4 -> (3 + 1.5) / 6
    assert ranking_auc(scores, labels) == pytest.approx(4.5 / 6)
    # within: traj 1: 0.9 beats both (2/2); traj 2: a tie (0.5/1) -> 2.5 / 3
    assert within_trajectory_auc(scores, labels) == pytest.approx(2.5 / 3)
    with pytest.raises(ValueError, match="^ranking_auc needs at least one positive and one negative step$"):
        ranking_auc([[1.0]], [[True]])


def test_new_estimator_starts_with_zero_contributions() -> None:
    from spa_gym.data import Trajectory

    walk = Trajectory("e", "t", "put a mug in sinkbasin", "You are in the middle of a room.")
    walk.add_step("look", "ok", 0.0, True)
    assert ProgressEstimator.from_backbone(tiny_model_path()).score([walk]) == [[0.0]]
