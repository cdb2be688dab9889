"""stable-baselines3 plumbing: spa-gym envs (optionally with SPA rewards) as SB3-ready vector envs.

stable-baselines3 cannot take text spaces, so :func:`make_sb3_env` builds the adapter chain

    gym.make(env_id) -> [TaskSubset] -> [SPARewardWrapper] -> AdmissibleActionsDiscrete -> HashedTextObservation

and returns a thunk for ``DummyVecEnv`` / ``SubprocVecEnv``. Train with sb3-contrib's
``MaskablePPO`` (it reads ``action_masks()`` through the vector env). :func:`success_rate` scores a
trained model (or a random masked policy) by the share of episodes won.

Example:
    >>> from sb3_contrib import MaskablePPO
    >>> from stable_baselines3.common.vec_env import DummyVecEnv
    >>> venv = DummyVecEnv([make_sb3_env("SPA-ALFWorld-v0", tasks=[4, 5], max_episode_steps=10)] * 2)
    >>> model = MaskablePPO("MlpPolicy", venv, n_steps=16, batch_size=32, seed=0)
    >>> model = model.learn(32)
    >>> 0.0 <= success_rate(model, make_sb3_env("SPA-ALFWorld-v0", tasks=[4, 5], max_episode_steps=10),
    ...                     episodes=2) <= 1.0
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from ..progress.spa_reward import SPAReward
from ..wrappers import TaskSubset
from .admissible_discrete import AdmissibleActionsDiscrete
from .hashed_text_observation import HashedTextObservation


def make_sb3_env(
    env_id: str = "SPA-ALFWorld-v0",
    *,
    tasks: Sequence[int | str] | None = None,
    task_seed: int | None = None,
    max_actions: int = 64,
    estimator: Any = None,
    reward: SPAReward = SPAReward(),
    max_episode_steps: int | None = None,
    **env_kwargs: Any,
) -> Callable[[], gym.Env]:
    """A thunk that builds one SB3-ready env (``Discrete`` actions with masks, ``Box`` observations).

    Args:
        env_id: a spa-gym env id.
        tasks: restrict episodes to these task indices or ids (:class:`TaskSubset`).
        task_seed: seed :class:`TaskSubset`'s draws once, so every env built by this thunk plays
            the same task sequence (groups of episodes of one task).
        max_actions: action slots (see :class:`AdmissibleActionsDiscrete` for padding and overflow).
        estimator: ``None`` for the env's sparse reward; a :class:`~spa_gym.progress.ProgressEstimator`
            or the path of a saved one for SPA's dense reward (a path is loaded inside the thunk, so
            each ``SubprocVecEnv`` worker loads its own copy).
        reward: SPA's reward weights, for :class:`~spa_gym.wrappers.SPARewardWrapper`. With action
            masks every chosen command is grounded, so ``SPAReward(beta=0.0)`` avoids a constant bonus.
        max_episode_steps: override the env's step limit.
        env_kwargs: passed to ``gym.make``.
    """
    import spa_gym  # noqa: F401  (registers the ids in SubprocVecEnv workers)

    def build() -> gym.Env:
        kwargs = dict(env_kwargs)
        if max_episode_steps is not None:
            kwargs["max_episode_steps"] = max_episode_steps
        env: gym.Env = gym.make(env_id, **kwargs)
        if tasks is not None:
            env = TaskSubset(env, tasks, seed=task_seed)
        if estimator is not None:
            from ..progress import ProgressEstimator
            from ..wrappers import SPARewardWrapper

            model = (ProgressEstimator.from_pretrained(estimator) if isinstance(estimator, (str, os.PathLike))
                     else estimator)
            env = SPARewardWrapper(env, model, reward)
        return HashedTextObservation(AdmissibleActionsDiscrete(env, max_actions=max_actions))

    return build


def success_rate(model: Any, make_env: Callable[[], gym.Env], episodes: int = 100, *, seed: int = 10_000,
                 deterministic: bool = False) -> float:
    """Share of ``episodes`` won by a MaskablePPO ``model`` (``None``: uniform over the live actions).

    Episode ``k`` resets with ``seed + k``, so every policy meets the same task sequence.
    """
    env = make_env()
    rng = np.random.default_rng(seed)
    wins = 0
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        while True:
            mask = env.get_wrapper_attr("action_masks")()
            if model is None:
                action = int(rng.choice(np.flatnonzero(mask)))
            else:
                action, _ = model.predict(observation, action_masks=mask, deterministic=deterministic)
            observation, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                wins += bool(info.get("won", False))
                break
    env.close()
    return wins / episodes
