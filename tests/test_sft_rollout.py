"""SFT on expert trajectories, batched rollouts, and the evaluation metrics."""

from __future__ import annotations

import math
import random

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.prompts import parse_action
from spa_gym.agents.rollout import evaluate, mean_interval, play_episodes, wilson_interval
from spa_gym.agents.sft import SFTConfig, SFTExample, sft_batches, sft_examples, train_sft
from spa_gym.data import Trajectory, collect_expert_trajectories
from spa_gym.training import tiny_model_path


@pytest.fixture(scope="module")
def experts() -> list[Trajectory]:
    return collect_expert_trajectories(gym.make("SPA-ALFWorld-v0", split="train"), range(24))


def test_sft_trains_only_the_agent_turns(experts: list[Trajectory]) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    [example] = sft_examples(policy, experts[0], "compact")
    tokenizer = policy.tokenizer
    trained = [tokenizer.convert_ids_to_tokens(i) for i, t in zip(example.ids, example.trained) if t]
    expected = [w for step in experts[0].steps for w in step.action.split() + ["<|end|>"]]
    assert trained == expected
    assert tokenizer.unk_token_id not in [i for i, t in zip(example.ids, example.trained) if t]


def test_sft_lowers_the_loss_and_saves_a_loadable_policy(experts: list[Trajectory], tmp_path) -> None:
    torch.manual_seed(0)
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    history = train_sft(policy, experts, tmp_path / "sft", SFTConfig(epochs=3, lr=3e-3, batch_size=8, progress=False))
    losses = [h["loss"] for h in history]
    assert losses[0] > losses[1] > losses[2]
    loaded = LLMPolicy.from_pretrained(tmp_path / "sft")
    ids = torch.tensor([sft_examples(policy, experts[1], "compact")[0].ids])
    with torch.no_grad():
        torch.testing.assert_close(loaded.token_logprobs(ids, torch.ones_like(ids))[0],
                                   policy.token_logprobs(ids, torch.ones_like(ids))[0])


def test_length_grouped_batches_cover_each_example_once_in_shuffled_order() -> None:
    lengths = [7, 3, 9, 1, 5, 8, 2, 6, 4]
    examples = [SFTExample([0] * n, [True] * n) for n in lengths]
    orders = set()
    for seed in range(4):
        batches = sft_batches(examples, 3, random.Random(seed))
        assert sorted(len(e.ids) for batch in batches for e in batch) == sorted(lengths)
        assert sorted(tuple(len(e.ids) for e in batch) for batch in batches) == [(1, 2, 3), (4, 5, 6), (7, 8, 9)]
        orders.add(tuple(len(batch[0].ids) for batch in batches))
    assert len(orders) > 1  # the order of the batches is shuffled
    ungrouped = sft_batches(examples, 3, random.Random(0), group_by_length=False)
    assert sorted(len(e.ids) for batch in ungrouped for e in batch) == sorted(lengths)


def test_sft_linear_schedule_decays_to_zero_and_unknown_schedules_are_rejected(experts, tmp_path,
                                                                              monkeypatch) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    seen = []
    original = torch.optim.AdamW.step

    def recording_step(optimizer, *args, **kwargs):
        seen.append(optimizer.param_groups[0]["lr"])
        return original(optimizer, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    train_sft(policy, experts[:8], tmp_path / "sft", SFTConfig(epochs=2, lr=1e-3, batch_size=2, schedule="linear",
                                                            progress=False))
    assert seen == pytest.approx([1e-3 * (1 - k / 8) for k in range(8)])
    with pytest.raises(ValueError, match="schedule"):
        SFTConfig(schedule="cosine")


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


def test_sft_with_a_history_window_trains_each_turn_in_the_windowed_chat(experts: list[Trajectory]) -> None:
    from spa_gym.agents.conversation import template_ids
    from spa_gym.agents.prompts import build_messages, format_assistant, get_prompt

    policy = LLMPolicy.from_pretrained(tiny_model_path())
    tokenizer = policy.tokenizer
    expert = max(experts, key=lambda t: len(t.steps))
    steps = expert.steps
    assert len(steps) >= 5
    window = 2
    examples = sft_examples(policy, expert, "compact", history_window=window)
    assert len(examples) == 1 + len(steps) - (window + 1)
    [whole] = sft_examples(policy, expert, "compact")
    shared = examples[0]
    assert whole.ids[: len(shared.ids)] == shared.ids  # the first k + 1 turns see their whole history
    trained_words = [tokenizer.convert_ids_to_tokens(i) for i, t in zip(shared.ids, shared.trained) if t]
    assert trained_words == [w for step in steps[: window + 1] for w in step.action.split() + ["<|end|>"]]
    prompt = get_prompt(expert.env_id, "compact")
    for turn, example in zip(range(window + 1, len(steps)), examples[1:]):
        history = [(format_assistant(s.action, None, "compact"), s.observation) for s in steps[turn - window : turn]]
        context = template_ids(tokenizer, build_messages(prompt, expert.initial_observation, history), True)
        action = (tokenizer.encode(steps[turn].action, add_special_tokens=False)
                  + [tokenizer.convert_tokens_to_ids("<|end|>")])
        assert example.ids == context + action
        assert example.trained == [False] * len(context) + [True] * len(action)
    with pytest.raises(ValueError, match="history_window keeps at least 1 turn"):
        SFTConfig(history_window=0)
