"""The spa-gym environments and their registration with Gymnasium.

Importing :mod:`spa_gym` registers every id; ``gym.make("spa_gym:SPA-ALFWorld-v0")`` imports it
for you.
"""

from __future__ import annotations

import gymnasium as gym

#: id -> (entry point, default step limit as in SPA-RL).
ENV_SPECS: dict[str, tuple[str, int]] = {
    "SPA-ALFWorld-v0": ("spa_gym.envs.alfworld.env:ALFWorldEnv", 40),
    "SPA-WebShop-v0": ("spa_gym.envs.webshop.env:WebShopEnv", 10),
    "SPA-VirtualHome-v0": ("spa_gym.envs.virtualhome.env:VirtualHomeEnv", 40),
}


def register_envs() -> None:
    """Register every spa-gym env id with Gymnasium (idempotent)."""
    for env_id, (entry_point, max_steps) in ENV_SPECS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_steps)
