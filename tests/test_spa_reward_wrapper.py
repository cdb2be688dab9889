"""SPARewardWrapper: the dense reward formula, info keys, KV-cached scores = one-pass scores, errors."""

from __future__ import annotations

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401
from conftest import untrained_but_varied
from spa_gym.data import Trajectory
from spa_gym.envs.base import TextEnv
from spa_gym.progress import ProgressEstimator, SPAReward
from spa_gym.training import tiny_model_path
from spa_gym.wrappers import SPARewardWrapper


@pytest.fixture(scope="module")
def estimator() -> ProgressEstimator:
    return untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=2))


@pytest.fixture(scope="module")
def prior_estimator() -> ProgressEstimator:
    return untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=2, task_prior=True))


@pytest.mark.parametrize("name", ["estimator", "prior_estimator"])
def test_dense_reward_and_info(name: str, request: pytest.FixtureRequest) -> None:
    estimator: ProgressEstimator = request.getfixturevalue(name)
    env = SPARewardWrapper(gym.make("SPA-ALFWorld-v0", split="valid_seen"), estimator, SPAReward(alpha=2.0, beta=0.25))
    obs, info = env.reset(options={"task_index": 7})
    walk = Trajectory("SPA-ALFWorld-v0", info["task_id"], info["task"], obs)
    rewards, infos = [], []
    actions = ["dance", "look"]
    while (expert := env.unwrapped.expert_action()) is not None:
        actions.append(expert)
        obs, reward, terminated, truncated, info = env.step(actions[len(rewards)])
        walk.add_step(actions[len(rewards)], obs, info["sparse_reward"], info["grounded"])
        rewards.append(reward)
        infos.append(info)
        if terminated:
            break
    assert infos[-1]["won"] and infos[-1]["sparse_reward"] == 1.0
    assert [i["grounding"] for i in infos][:2] == [0.0, 1.0]
    [one_pass] = estimator.score([walk])
    assert [i["progress"] for i in infos] == pytest.approx(one_pass, abs=1e-5)
    expected = [2.0 * c + 0.25 * i["grounding"] + i["sparse_reward"] for c, i in zip(one_pass, infos)]
    assert rewards == pytest.approx(expected, abs=1e-4)


def test_without_final_reward_the_win_adds_nothing(estimator: ProgressEstimator) -> None:
    env = SPARewardWrapper(gym.make("SPA-ALFWorld-v0", split="valid_seen"), estimator,
                           SPAReward(keep_final_reward=False))
    env.reset(options={"task_index": 0})
    while (command := env.unwrapped.expert_action()) is not None:
        _, reward, terminated, _, info = env.step(command)
    assert info["won"] and info["sparse_reward"] == 1.0
    assert reward == pytest.approx(info["progress"] + 0.5)


def test_non_str_action_and_constructor_args(estimator: ProgressEstimator) -> None:
    env = SPARewardWrapper(gym.make("SPA-ALFWorld-v0"), estimator, SPAReward(alpha=3.0))
    assert env._saved_kwargs["reward"] == SPAReward(alpha=3.0) and env._saved_kwargs["estimator"] is estimator
    env.reset(seed=0)
    with pytest.raises(TypeError, match="actions as str"):
        env.step(3)


class Gibberish(TextEnv):
    def _reset_task(self, options):
        self.task, self.task_id = "zorp", "g-0"
        return "qwv blorf znakk prrt vlemp"

    def _step_text(self, action):
        return "qwv", 0.0, False, False

    def admissible_actions(self):
        return []

    def _world_state(self):
        return ()


def test_clear_error_when_the_estimator_cannot_serve_the_env(estimator: ProgressEstimator) -> None:
    env = SPARewardWrapper(Gibberish(), estimator)
    with pytest.raises(ValueError, match="does not know Gibberish's vocabulary"):
        env.reset()
    with pytest.raises(RuntimeError, match="reset"):
        SPARewardWrapper(gym.make("SPA-ALFWorld-v0"), estimator).step("look")
