"""spa-gym: Gymnasium text environments and dense Stepwise Progress Attribution rewards for LLM agents.

Importing the package registers the env ids with Gymnasium.

Example:
    >>> import gymnasium as gym
    >>> import spa_gym
    >>> env = gym.make("SPA-ALFWorld-v0")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(k for k in info if k in ("task", "task_id", "admissible_actions", "won"))
    ['admissible_actions', 'task', 'task_id', 'won']
"""

from .envs import ENV_SPECS, register_envs
from .envs.base import TextEnv, UnboundedText

__version__ = "0.1.0"

register_envs()

__all__ = ["ENV_SPECS", "TextEnv", "UnboundedText", "__version__", "register_envs"]
