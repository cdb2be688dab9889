"""Every env id is known to every layer that keeps a per-env table."""

from __future__ import annotations

import gymnasium as gym

from spa_gym.agents.prompts import PROMPTS
from spa_gym.envs import ENV_SPECS
from spa_gym.pipeline import ENV_RECIPES
from spa_gym.training.tiny import ENV_TINY_TEXTS


def test_each_layer_covers_every_env_id() -> None:
    ids = set(ENV_SPECS)
    assert ids == {"SPA-ALFWorld-v0", "SPA-WebShop-v0", "SPA-VirtualHome-v0"}
    assert set(PROMPTS) == ids
    assert set(ENV_RECIPES) == ids
    assert set(ENV_TINY_TEXTS) | {"SPA-ALFWorld-v0"} == ids  # ALFWorld's is the default tiny model


def test_specs_are_registered_with_their_limits_and_splits() -> None:
    for env_id, spec in ENV_SPECS.items():
        assert gym.spec(env_id).max_episode_steps == spec.max_episode_steps
    assert [(spec.max_episode_steps, spec.eval_split) for spec in ENV_SPECS.values()] == [
        (40, "valid_unseen"), (10, "test"), (40, "test_unseen")]
    # the test splits' sizes in SPA-RL: 134 unseen ALFWorld games, 200 WebShop goals, 247 VirtualHome tasks
    sizes = [gym.make(env_id, split=spec.eval_split).unwrapped.num_tasks() for env_id, spec in ENV_SPECS.items()]
    assert sizes == [134, 200, 247]
