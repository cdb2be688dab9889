"""Gymnasium wrappers for spa-gym's text envs, one per module.

The adapters for RL libraries that cannot take text spaces live in :mod:`spa_gym.integrations`.

- :class:`RecordTrajectories`: record episodes as JSONL trajectories.
- :class:`SPARewardWrapper`: SPA's dense rewards from a progress estimator.
- :class:`SPARewardVectorWrapper`: the same for vector envs, the estimator batched across sub-envs.
- :class:`TaskSubset`: draw every episode from a fixed list of tasks.
"""

from .record_trajectories import RecordTrajectories
from .spa_reward import SPARewardWrapper
from .spa_reward_vector import SPARewardVectorWrapper
from .task_subset import TaskSubset

__all__ = [
    "RecordTrajectories",
    "SPARewardVectorWrapper",
    "SPARewardWrapper",
    "TaskSubset",
]
