"""SPARewardVectorWrapper: same rewards as one SPARewardWrapper per sub-env, across autoresets."""

from __future__ import annotations

import random

import gymnasium as gym
import numpy as np
import pytest

import spa_gym  # noqa: F401
from conftest import untrained_but_varied
from spa_gym.progress import ProgressEstimator, SPAReward
from spa_gym.progress.batch_scorer import BatchScorer
from spa_gym.training import tiny_model_path
from spa_gym.wrappers import SPARewardVectorWrapper, SPARewardWrapper


@pytest.fixture(scope="module")
def estimator() -> ProgressEstimator:
    return untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=3)).eval()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_rewards_equal_single_env_rewards(estimator: ProgressEstimator, mode: str) -> None:
    n, limit = 3, 6
    envs = SPARewardVectorWrapper(
        gym.make_vec("SPA-ALFWorld-v0", num_envs=n, vectorization_mode=mode, split="valid_seen",
                     max_episode_steps=limit),
        estimator, SPAReward(alpha=1.5, beta=0.25),
    )
    singles = [SPARewardWrapper(gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=limit), estimator,
                                SPAReward(alpha=1.5, beta=0.25)) for _ in range(n)]
    obs, infos = envs.reset(seed=[10, 11, 12])
    single_infos = [s.reset(seed=10 + i)[1] for i, s in enumerate(singles)]
    assert list(obs) == [s.unwrapped._last_observation for s in singles]
    rng = random.Random(0)
    resetting = np.zeros(n, dtype=bool)
    compared = 0
    for _ in range(16):  # long enough for every sub-env to finish an episode and autoreset
        actions = [rng.choice(info["admissible_actions"] + ["dance"]) for info in single_infos]
        obs, rewards, terminated, truncated, infos = envs.step(actions)
        for i, single in enumerate(singles):
            if resetting[i]:  # the vector env autoreset this sub-env; restart the single env's episode
                assert rewards[i] == 0.0 and not infos["_progress"][i]
                _, single_infos[i] = single.reset(options={"task_id": infos["task_id"][i]})
                assert obs[i] == single.unwrapped._last_observation
                continue
            single_obs, reward, single_term, single_trunc, single_infos[i] = single.step(actions[i])
            assert obs[i] == single_obs
            assert rewards[i] == pytest.approx(reward, abs=1e-4)
            assert infos["progress"][i] == pytest.approx(single_infos[i]["progress"], abs=1e-4)
            assert (terminated[i], truncated[i]) == (single_term, single_trunc)
            compared += 1
        resetting = terminated | truncated
    envs.close()
    assert compared >= 40


def test_batch_scorer_rebuilds_its_cache_without_changing_scores(estimator: ProgressEstimator) -> None:
    scorer = BatchScorer(estimator, rows=2)
    reference = BatchScorer(estimator, rows=1)
    scorer.start(0, "put a mug in sinkbasin", "You are in the middle of a room.")
    reference.start(0, "put a mug in sinkbasin", "You are in the middle of a room.")
    for episode in range(6):  # row 1 runs short episodes that pile up dead cache positions
        scorer.start(1, "put a pen in desk", "You are in the middle of a room.")
        for action in ("look", "inventory"):
            scorer.score_actions({1: action})
            scorer.observe(1, "Nothing happens.")
        mine = scorer.score_actions({0: f"go to cabinet {episode + 1}"})[0]
        theirs = reference.score_actions({0: f"go to cabinet {episode + 1}"})[0]
        assert mine == pytest.approx(theirs, abs=1e-5)
        scorer.observe(0, "Nothing happens.")
        reference.observe(0, "Nothing happens.")
    assert scorer.valid.shape[1] <= 2 * max(len(h) for h in scorer.history) + 40


def test_non_str_action_raises(estimator: ProgressEstimator) -> None:
    envs = SPARewardVectorWrapper(gym.make_vec("SPA-ALFWorld-v0", num_envs=2, vectorization_mode="sync"), estimator)
    envs.reset(seed=0)
    with pytest.raises(TypeError, match="actions as str"):
        envs.step(["look", 5])
