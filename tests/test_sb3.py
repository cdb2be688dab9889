"""The stable-baselines3 adapters: Discrete actions with masks, hashed Box observations, task subsets."""

from __future__ import annotations

import zlib

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import spa_gym  # noqa: F401
from conftest import untrained_but_varied
from spa_gym.envs.alfworld.expert import plan_length
from spa_gym.integrations import AdmissibleActionsDiscrete, HashedTextObservation
from spa_gym.integrations.hashed_text_observation import SLOT_SCALARS, hashed_features, words
from spa_gym.integrations.sb3 import make_sb3_env, success_rate
from spa_gym.progress import ProgressEstimator
from spa_gym.training import tiny_model_path
from spa_gym.wrappers import SPARewardWrapper, TaskSubset

#: Train tasks whose expert plan is at most 4 commands: a suite MaskablePPO can learn in seconds.
EASY_TASKS = [4, 5, 13, 20]


def alfworld(**kwargs) -> gym.Env:
    return gym.make("SPA-ALFWorld-v0", **kwargs)


def test_discrete_indices_send_the_admissible_commands_in_order():
    env = AdmissibleActionsDiscrete(alfworld(split="valid_seen"), max_actions=64)
    _, info = env.reset(seed=3)
    assert info["candidate_actions"] == info["admissible_actions"]
    assert info["actions_dropped"] == 0
    mask = env.action_masks()
    assert mask.dtype == bool and mask.shape == (64,)
    assert mask.tolist() == [True] * len(info["admissible_actions"]) + [False] * (64 - len(info["admissible_actions"]))
    index = info["admissible_actions"].index("inventory")
    _, _, _, _, step_info = env.step(np.int64(index))
    assert step_info["action_text"] == "inventory"
    assert step_info["grounded"] is True


def test_padding_index_sends_the_padding_action_which_the_env_rejects():
    env = AdmissibleActionsDiscrete(alfworld(), max_actions=64)
    _, info = env.reset(seed=0)
    obs, reward, terminated, _, step_info = env.step(63)
    assert step_info["action_text"] == ""
    assert (obs, reward, terminated, step_info["grounded"]) == ("Nothing happens.", 0.0, False, False)


def test_overflow_keeps_the_first_commands_and_counts_the_rest():
    env = AdmissibleActionsDiscrete(alfworld(), max_actions=3)
    _, info = env.reset(seed=0)
    assert info["candidate_actions"] == info["admissible_actions"][:3]
    assert info["actions_dropped"] == len(info["admissible_actions"]) - 3
    assert env.action_masks().tolist() == [True, True, True]


def test_out_of_range_index_and_bad_size_raise():
    env = AdmissibleActionsDiscrete(alfworld(), max_actions=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"outside Discrete\(4\)"):
        env.step(4)
    with pytest.raises(ValueError, match="at least 1"):
        AdmissibleActionsDiscrete(alfworld(), max_actions=0)


def test_empty_admissible_list_leaves_index_zero_live():
    env = AdmissibleActionsDiscrete(alfworld(), max_actions=4, padding_action="wait")
    env.reset(seed=0)
    env.candidates = []  # as if the env offered nothing
    assert env.action_masks().tolist() == [True, False, False, False]
    obs, _, _, _, info = env.step(0)
    assert (info["action_text"], obs, info["grounded"]) == ("wait", "Nothing happens.", False)


def test_hashed_features_are_crc32_buckets_with_sign():
    vector = hashed_features("mug", 16)
    code = zlib.crc32(b"mug")
    expected = np.zeros(16, dtype=np.float32)
    expected[code % 16] = 1.0 if code & 0x80000000 else -1.0
    assert np.array_equal(vector, expected)
    assert not hashed_features("", 16).any()
    assert words("Put a Mug 2 in/on SinkBasin 1.") == ["put", "a", "mug", "2", "in", "on", "sinkbasin", "1"]


def test_hashed_observation_layout():
    env = HashedTextObservation(AdmissibleActionsDiscrete(alfworld(split="valid_seen"), max_actions=64))
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    text, task = info["text_observation"], info["task"]
    assert np.array_equal(obs[:256], hashed_features(text, 256))
    assert np.array_equal(obs[256:384], hashed_features(task, 128))
    slot = 32 + SLOT_SCALARS
    candidates = info["candidate_actions"]
    for index, command in enumerate(candidates):
        start = 384 + index * slot
        assert np.array_equal(obs[start : start + 32], hashed_features(command, 32))
        command_words = words(command)
        in_task = sum(w in set(words(task)) for w in command_words) / len(command_words)
        in_obs = sum(w in set(words(text)) for w in command_words) / len(command_words)
        assert obs[start + 32 : start + 35].tolist() == pytest.approx([in_task, in_obs, 1.0])
    assert not obs[384 + len(candidates) * slot :].any()


def test_hashed_observation_needs_a_slot_count_without_discrete_actions():
    with pytest.raises(ValueError, match="max_actions is required"):
        HashedTextObservation(alfworld())
    env = HashedTextObservation(alfworld(), max_actions=2)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (256 + 128 + 2 * 35,)


def test_task_subset_is_seeded_and_explicit_options_win():
    def draws(seed: int) -> list[str]:
        env = TaskSubset(alfworld(split="valid_seen"), [2, "valid_seen-0009", 11])
        ids = [env.reset(seed=seed)[1]["task_id"]]
        ids += [env.reset()[1]["task_id"] for _ in range(9)]
        return ids

    assert draws(5) == draws(5)
    assert set(draws(5)) <= {"valid_seen-0002", "valid_seen-0009", "valid_seen-0011"}
    assert len(set(draws(5) + draws(6))) > 1
    env = TaskSubset(alfworld(split="valid_seen"), [2])
    assert env.reset(options={"task_id": "valid_seen-0030"})[1]["task_id"] == "valid_seen-0030"
    with pytest.raises(ValueError, match="at least one"):
        TaskSubset(alfworld(), [])


def test_sb3_check_env_passes_sparse_and_with_spa_rewards():
    check_env(make_sb3_env(max_episode_steps=8)(), warn=True)
    estimator = ProgressEstimator.from_backbone(tiny_model_path())
    check_env(make_sb3_env(estimator=estimator, max_episode_steps=8)(), warn=True)


def test_spa_rewards_reach_sb3_unchanged():
    estimator = untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path()))
    sb3_env = make_sb3_env(estimator=estimator, tasks=[7])()
    text_env = SPARewardWrapper(TaskSubset(alfworld(), [7]), estimator)
    sb3_env.reset(seed=0)
    text_env.reset(seed=0)
    for index in (0, 2, 1, 5):
        command = sb3_env.get_wrapper_attr("candidates")[index]
        _, reward, _, _, info = sb3_env.step(index)
        _, text_reward, _, _, text_info = text_env.step(command)
        assert reward == text_reward != 0.0
        assert info["progress"] == text_info["progress"]


def test_maskable_ppo_runs_on_dummy_and_subproc_vec_envs():
    for vec_cls in (DummyVecEnv, SubprocVecEnv):
        venv = vec_cls([make_sb3_env(tasks=EASY_TASKS, max_episode_steps=5)] * 2)
        try:
            model = MaskablePPO("MlpPolicy", venv, n_steps=8, batch_size=16, n_epochs=1, seed=0)
            model.learn(16)
            masks = np.stack(venv.env_method("action_masks"))
            assert masks.shape == (2, 64) and masks.any(axis=1).all()
        finally:
            venv.close()


@pytest.mark.slow
def test_maskable_ppo_learns_a_small_alfworld_suite():
    """Sparse reward, 4 tasks of plan length <= 4, 40k env steps (~40 s on 2 cores).

    A uniform policy over the admissible commands never wins these within 20 steps (0/100);
    MaskablePPO wins most of them after training.
    """
    env = alfworld()
    for index in EASY_TASKS:
        env.reset(options={"task_index": index})
        assert plan_length(env.unwrapped.episode) <= 4
    make = make_sb3_env(tasks=EASY_TASKS, max_episode_steps=20)
    venv = DummyVecEnv([make] * 4)
    model = MaskablePPO("MlpPolicy", venv, n_steps=256, batch_size=256, ent_coef=0.01, seed=0)
    model.learn(40_000)
    random_success = success_rate(None, make, episodes=100)
    trained_success = success_rate(model, make, episodes=100)
    assert random_success <= 0.05
    assert trained_success >= 0.3
