"""Credit methods as MaskablePPO's advantages: episodes recorded exactly, advantages written where
their steps are, groups from a shared task sequence, mc-prm's extra steps counted."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("sb3_contrib", reason="the sb3 extra (stable-baselines3, sb3-contrib) is not installed")

from sb3_contrib import MaskablePPO  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

import spa_gym  # noqa: E402, F401
from spa_gym.integrations.sb3 import make_sb3_env  # noqa: E402
from spa_gym.integrations.sb3_credit import CreditRolloutBuffer, EpisodeRecorder, make_credit_ppo  # noqa: E402
from spa_gym.wrappers import TaskSubset  # noqa: E402

TASKS = [4, 5, 13]


class ProbeCredit:
    """Critic-free credit 100 * episode + step, remembering the episodes it was given."""

    name, target = "probe", "advantages"

    def describe(self):
        return {"name": self.name}

    def __call__(self, trajectories):
        self.seen = list(trajectories)
        return [[100.0 * e + t for t in range(len(walk.steps))] for e, walk in enumerate(trajectories)]


def test_task_subset_with_a_seed_gives_every_copy_the_same_sequence() -> None:
    copies = [TaskSubset(gym.make("SPA-ALFWorld-v0"), TASKS, seed=7) for _ in range(2)]
    sequences = [[env.reset(seed=100 * k + i)[1]["task_id"] for i in range(6)] for k, env in enumerate(copies)]
    assert sequences[0] == sequences[1] and len(set(sequences[0])) > 1
    unseeded = TaskSubset(gym.make("SPA-ALFWorld-v0"), TASKS)
    assert ([unseeded.reset(seed=3)[1]["task_id"] for _ in range(2)]
            == [unseeded.reset(seed=3)[1]["task_id"] for _ in range(2)])  # reset seeds still re-seed it


def test_recorder_rebuilds_each_episode_with_its_state_keys_and_rows() -> None:
    thunk = make_sb3_env("SPA-ALFWorld-v0", tasks=TASKS, task_seed=0, max_episode_steps=3)
    recorder = EpisodeRecorder(DummyVecEnv([thunk] * 2))
    recorder.reset()
    recorder.start_rollout()
    keys, texts = [], []
    for _ in range(4):
        keys.append([env.unwrapped.state_key() for env in recorder.venv.envs])
        texts.append([env.get_wrapper_attr("candidates")[0] for env in recorder.venv.envs])
        recorder.step(np.zeros(2, dtype=np.int64))
    # step limit 3: each copy finished one episode after rows 0-2 and is one step into the next
    assert [(e.env_index, e.rows) for e in recorder.finished] == [(0, [0, 1, 2]), (1, [0, 1, 2])]
    for episode in recorder.finished:
        walk = episode.trajectory
        assert [s.state_key for s in walk.steps] == [keys[row][episode.env_index] for row in range(3)]
        assert [s.action for s in walk.steps] == [texts[row][episode.env_index] for row in range(3)]
        assert walk.env_id == "SPA-ALFWorld-v0" and walk.task_id.startswith("train-")
    assert recorder.finished[0].trajectory.task_id == recorder.finished[1].trajectory.task_id  # one group
    recorder.start_rollout()
    assert recorder.finished == [] and [r.rows for r in recorder._running] == [[None], [None]]
    with pytest.raises(TypeError, match="needs a DummyVecEnv"):
        EpisodeRecorder(recorder)


def test_buffer_advantages_are_the_credit_of_finished_episodes_and_zero_elsewhere() -> None:
    thunk = make_sb3_env("SPA-ALFWorld-v0", tasks=TASKS, task_seed=0, max_episode_steps=5)
    recorder = EpisodeRecorder(DummyVecEnv([thunk] * 2))
    credit = ProbeCredit()
    model = MaskablePPO("MlpPolicy", recorder, n_steps=12, batch_size=24, n_epochs=1, vf_coef=0.0, seed=0,
                        rollout_buffer_class=CreditRolloutBuffer,
                        rollout_buffer_kwargs={"recorder": recorder, "credit": credit})
    model.learn(24)
    buffer = model.rollout_buffer
    expected = np.zeros((12, 2), dtype=np.float32)
    for e, episode in enumerate(recorder.finished):
        for t, row in enumerate(episode.rows):
            if row is not None:
                expected[row, episode.env_index] = 100.0 * e + t
    assert len(credit.seen) == len(recorder.finished) >= 4  # 12 rows, episodes of 5 steps, 2 copies
    # after training SB3 has flattened the buffer env by env: (envs * rows, 1)
    advantages = buffer.advantages.reshape(2, 12).T
    np.testing.assert_array_equal(advantages, expected)
    np.testing.assert_allclose(buffer.returns, buffer.advantages + buffer.values)
    # rows 10-11 of each copy belong to episodes still running: no credit yet
    assert not expected[10:].any()


def test_make_credit_ppo_counts_mc_prm_rollouts_and_refuses_reward_methods() -> None:
    model = make_credit_ppo("mc-prm", "SPA-ALFWorld-v0", tasks=TASKS, n_envs=2, max_episode_steps=4, mc_rollouts=1,
                            n_steps=8, batch_size=16, n_epochs=1, seed=0)
    model.learn(16)
    recorder = model.rollout_buffer.recorder
    # one rollout from the state before each step of each finished episode, up to the steps it had left
    finished_steps_left = sum(4 - t for episode in recorder.finished for t in range(len(episode.states)))
    assert 0 < recorder.extra_env_steps <= finished_steps_left
    assert all(len(e.states) == len(e.trajectory.steps) for e in recorder.finished)
    assert recorder.extra_policy_calls == recorder.extra_env_steps  # one policy call per rollout step
    with pytest.raises(ValueError, match="'sparse' is not one of the critic-free methods"):
        make_credit_ppo("sparse", "SPA-ALFWorld-v0", tasks=TASKS, n_steps=8, batch_size=16)
