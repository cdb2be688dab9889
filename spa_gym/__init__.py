"""spa-gym: Gymnasium text environments and dense Stepwise Progress Attribution rewards for LLM agents.

Importing the package registers the env ids with Gymnasium.

Example:
    >>> import gymnasium as gym
    >>> import spa_gym
    >>> env = gym.make("SPA-ALFWorld-v0")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(k for k in info if k in ("task", "task_id", "admissible_actions", "won", "state_key"))
    ['admissible_actions', 'state_key', 'task', 'task_id', 'won']
"""

from __future__ import annotations

import importlib
from typing import Any

from .envs import ENV_SPECS, register_envs
from .envs.base import TextEnv, UnboundedText

__version__ = "0.1.0"

register_envs()

#: The public API that needs torch and transformers, imported on first use so that ``import spa_gym``
#: (env ids only) stays fast: name -> the module that defines it.
_LAZY: dict[str, str] = {
    "ProgressEstimator": "spa_gym.progress",
    "EstimatorTrainingConfig": "spa_gym.progress",
    "train_estimator": "spa_gym.progress",
    "get_redistributor": "spa_gym.progress",
    "SPAReward": "spa_gym.progress",
    "get_credit_method": "spa_gym.credit",
    "Trajectory": "spa_gym.data",
    "TrajectoryWriter": "spa_gym.data",
    "read_trajectories": "spa_gym.data",
    "collect_expert_trajectories": "spa_gym.data",
    "load_trajectories": "spa_gym.data.formats",
    "convert": "spa_gym.data.formats",
    "SPARewardWrapper": "spa_gym.wrappers",
    "SPARewardVectorWrapper": "spa_gym.wrappers",
    "RecordTrajectories": "spa_gym.wrappers",
    "LLMPolicy": "spa_gym.agents",
    "SFTConfig": "spa_gym.agents",
    "train_sft": "spa_gym.agents",
    "play_episodes": "spa_gym.agents",
    "evaluate": "spa_gym.agents",
    "resolve_model": "spa_gym.training",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spa_gym' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["ENV_SPECS", "TextEnv", "UnboundedText", "__version__", "register_envs", *_LAZY]
