"""What the env benchmarks share: the null env baseline and the random-admissible stepping loop.

The scripts run as ``python3 benchmarks/<script>.py``, which puts this folder on ``sys.path``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import gymnasium as gym

from spa_gym.envs.base import TextEnv


class NullEnv(TextEnv):
    """Answers every command with a constant: the cost of the Gymnasium loop itself."""

    def _reset_task(self, options):
        return "start"

    def _step_text(self, action):
        return "Nothing happens.", 0.0, False, False

    def admissible_actions(self):
        return ["look"]

    def _world_state(self):
        return ()


def random_steps_per_s(env: gym.Env, steps: int, seed: int,
                       choose: Callable[[random.Random, dict], str] | None = None) -> float:
    """Steps per second with random admissible commands (``choose(rng, info)`` picks another way)."""
    rng = random.Random(seed)
    _, info = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        action = choose(rng, info) if choose else rng.choice(info["admissible_actions"])
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            _, info = env.reset()
    return steps / (time.perf_counter() - start)
