"""SFT on expert trajectories, batched rollouts, and the evaluation metrics."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.prompts import parse_action
from spa_gym.agents.rollout import evaluate, mean_interval, play_episodes, wilson_interval
from spa_gym.agents.sft import SFTArgs, sft_example, train_sft
from spa_gym.progress import Trajectory, collect_expert_trajectories, tiny_model_path


@pytest.fixture(scope="module")
def experts() -> list[Trajectory]:
    return collect_expert_trajectories(gym.make("SPA-ALFWorld-v0", split="train"), range(24))


def test_sft_trains_only_the_agent_turns(experts: list[Trajectory]) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    example = sft_example(policy, experts[0], "compact")
    tokenizer = policy.tokenizer
    trained = [tokenizer.convert_ids_to_tokens(i) for i, t in zip(example.ids, example.trained) if t]
    expected = [w for step in experts[0].steps for w in step.action.split() + ["<|end|>"]]
    assert trained == expected
    assert tokenizer.unk_token_id not in [i for i, t in zip(example.ids, example.trained) if t]


def test_sft_lowers_the_loss_and_saves_a_loadable_policy(experts: list[Trajectory], tmp_path) -> None:
    torch.manual_seed(0)
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    history = train_sft(policy, experts, tmp_path / "sft", SFTArgs(epochs=3, lr=3e-3, batch_size=8, progress=False))
    losses = [h["loss"] for h in history]
    assert losses[0] > losses[1] > losses[2]
    loaded = LLMPolicy.from_pretrained(tmp_path / "sft")
    ids = torch.tensor([sft_example(policy, experts[1], "compact").ids])
    with torch.no_grad():
        torch.testing.assert_close(loaded.token_logprobs(ids, torch.ones_like(ids))[0],
                                   policy.token_logprobs(ids, torch.ones_like(ids))[0])


def test_rollouts_keep_exact_ids_and_raw_outputs() -> None:
    torch.manual_seed(0)
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    envs = [gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=4) for _ in range(3)]
    episodes = play_episodes(policy, envs, options=[{"task_index": i} for i in range(3)], max_new_tokens=6)
    for episode in episodes:
        steps = episode.trajectory.steps
        assert len(steps) == 4 and episode.truncated and len(episode.conversation.action_spans) == 4
        for (start, end), step in zip(episode.conversation.action_spans, steps):
            generated = episode.conversation.ids[start:end]
            assert policy.tokenizer.decode(generated, skip_special_tokens=True) == step.raw_output
            assert step.action == parse_action(step.raw_output, "compact")


def test_evaluation_metrics_exact() -> None:
    def walk(won: bool, grounded: list[bool]) -> Trajectory:
        t = Trajectory("e", "t", "task", "obs")
        for g in grounded:
            t.add_step("a", "o", 0.0, g)
        t.final_reward, t.won = float(won), won
        return t

    result = evaluate([walk(True, [True, True]), walk(False, [True, False]), walk(False, [False, False])])
    assert result.episodes == 3
    assert result.success_rate.value == pytest.approx(1 / 3)
    assert result.grounding_accuracy.value == pytest.approx(3 / 6)
    assert result.average_reward.value == pytest.approx(1 / 3)
    # Wilson interval for 1/3 at z = 1.96, worked by the formula
    p, n, z = 1 / 3, 3, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (result.success_rate.low, result.success_rate.high) == pytest.approx((centre - half, centre + half))
    assert wilson_interval(0, 10).low == 0.0 and wilson_interval(10, 10).high == 1.0
    interval = mean_interval([1.0, 2.0, 3.0])
    assert (interval.low, interval.high) == pytest.approx((2 - 1.96 / math.sqrt(3), 2 + 1.96 / math.sqrt(3)))
