"""The spa-gym environments and their registration with Gymnasium.

Importing :mod:`spa_gym` registers every id; ``gym.make("spa_gym:SPA-ALFWorld-v0")`` imports it
for you.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym


@dataclass(frozen=True)
class EnvSpec:
    """What the benchmark fixes for an env: its class, its step limit and the split SPA-RL tests on."""

    entry_point: str
    max_episode_steps: int
    eval_split: str


#: Every spa-gym env id. Step limits as in SPA-RL; test splits: ALFWorld's unseen games, WebShop's
#: test goals, STeCa's unseen VirtualHome tasks.
ENV_SPECS: dict[str, EnvSpec] = {
    "SPA-ALFWorld-v0": EnvSpec("spa_gym.envs.alfworld.env:ALFWorldEnv", 40, "valid_unseen"),
    "SPA-WebShop-v0": EnvSpec("spa_gym.envs.webshop.env:WebShopEnv", 10, "test"),
    "SPA-VirtualHome-v0": EnvSpec("spa_gym.envs.virtualhome.env:VirtualHomeEnv", 40, "test_unseen"),
}


def register_envs() -> None:
    """Register every spa-gym env id with Gymnasium (idempotent)."""
    for env_id, spec in ENV_SPECS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=spec.entry_point, max_episode_steps=spec.max_episode_steps)
