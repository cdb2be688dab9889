"""The SPA core on WebShop and VirtualHome: collection, estimator scoring, the wrapper, redistribution."""

from __future__ import annotations

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401
from conftest import untrained_but_varied
from spa_gym.data import collect_expert_trajectories, collect_trajectories, make_policy
from spa_gym.progress import ProgressEstimator, SPAReward, get_redistributor
from spa_gym.training import tiny_model_path
from spa_gym.wrappers import SPARewardWrapper

#: env id -> a held-out split of it
ENVS = {"SPA-WebShop-v0": "test", "SPA-VirtualHome-v0": "test_unseen"}


@pytest.fixture(scope="module", params=sorted(ENVS))
def env_and_estimator(request) -> tuple[str, ProgressEstimator]:
    env_id = request.param
    return env_id, untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(env_id), seed=1))


def test_the_env_tiny_model_knows_the_env_words(env_and_estimator):
    env_id, estimator = env_and_estimator
    env = gym.make(env_id, split=ENVS[env_id])
    [walk] = collect_expert_trajectories(env, [3])
    text = " ".join([walk.initial_observation] + [f"{s.action} {s.observation}" for s in walk.steps])
    ids = estimator.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert sum(i == estimator.tokenizer.unk_token_id for i in ids) / len(ids) < 0.1


def test_wrapper_rewards_equal_one_pass_scores(env_and_estimator):
    env_id, estimator = env_and_estimator
    env = SPARewardWrapper(gym.make(env_id, split=ENVS[env_id]), estimator, SPAReward(alpha=1.0, beta=0.5))
    obs, info = env.reset(options={"task_index": 5})
    actions, rewards, infos = ["do a little dance"], [], []
    while True:
        action = actions[len(rewards)] if len(rewards) < len(actions) else env.unwrapped.expert_action()
        if action is None:
            break
        actions[len(rewards):] = [action]
        obs, reward, terminated, truncated, step_info = env.step(action)
        rewards.append(reward)
        infos.append(step_info)
        if terminated or truncated:
            break
    assert infos[0]["grounding"] == 0.0 and infos[-1]["won"] and infos[-1]["sparse_reward"] == 1.0
    walk = collect_expert_trajectories(gym.make(env_id, split=ENVS[env_id]), [5])[0]
    assert [s.action for s in walk.steps] == actions[1:]
    expected = [i["progress"] + 0.5 * i["grounding"] + i["sparse_reward"] for i in infos]
    assert rewards == pytest.approx(expected, abs=1e-6)
    assert len({round(i["progress"], 6) for i in infos}) > 1


def test_noisy_expert_walks_redistribute(env_and_estimator):
    env_id, estimator = env_and_estimator
    env = gym.make(env_id, split=ENVS[env_id])
    walks = collect_trajectories(env, make_policy("noisy-expert", env, epsilon=0.5, seed=0), 6, seed=0)
    assert any(not s.grounded for w in walks for s in w.steps)
    spa = get_redistributor("spa", estimator=estimator, reward=SPAReward(alpha=1.0, beta=0.5))(walks)
    scores = estimator.score(walks)
    for walk, rewards, contributions in zip(walks, spa, scores):
        assert len(rewards) == len(walk.steps)
        grounding = [0.5 * float(s.grounded) for s in walk.steps]
        final = [0.0] * (len(walk.steps) - 1) + [walk.final_reward]
        assert rewards == pytest.approx([c + g + f for c, g, f in zip(contributions, grounding, final)], abs=1e-5)
