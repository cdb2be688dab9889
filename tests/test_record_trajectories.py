"""RecordTrajectories: episodes recorded in memory and to JSONL, cut-short episodes kept."""

from __future__ import annotations

import gymnasium as gym

import spa_gym  # noqa: F401
from spa_gym.data import read_trajectories
from spa_gym.wrappers import RecordTrajectories


def test_records_won_episode_and_cut_short_episode(tmp_path) -> None:
    path = tmp_path / "walks.jsonl"
    env = RecordTrajectories(gym.make("SPA-ALFWorld-v0", split="valid_seen"), path=path)
    obs, info = env.reset(options={"task_index": 4})
    plan = []
    while (command := env.unwrapped.expert_action()) is not None:
        plan.append(command)
        *_, info = env.step(command)
    env.reset(options={"task_index": 5})
    env.step("look")
    env.step("nonsense")
    env.close()
    walks = read_trajectories(path)
    assert walks == env.trajectories
    assert [w.task_id for w in walks] == ["valid_seen-0004", "valid_seen-0005"]
    first, second = walks
    assert first.initial_observation == obs and first.won and first.final_reward == 1.0
    assert [s.action for s in first.steps] == plan
    assert not second.won and [(s.action, s.grounded) for s in second.steps] == [("look", True), ("nonsense", False)]
    assert second.steps[1].observation == "Nothing happens."
    assert env.spec is not None and env.spec.id == "SPA-ALFWorld-v0"
