"""Gymnasium wrappers for spa-gym's text envs, one per module.

- :class:`RecordTrajectories`: record episodes as JSONL trajectories.
- :class:`SPARewardWrapper`: SPA's dense rewards from a progress estimator.
- :class:`SPARewardVectorWrapper`: the same for vector envs, the estimator batched across sub-envs.
- :class:`AdmissibleActionsDiscrete`: the admissible commands as ``Discrete(K)`` with ``action_masks()``.
- :class:`HashedTextObservation`: the text observation as a fixed-size ``Box`` of hashed features.
- :class:`TaskSubset`: draw every episode from a fixed list of tasks.
"""

from .admissible_discrete import AdmissibleActionsDiscrete
from .hashed_text_observation import HashedTextObservation
from .record_trajectories import RecordTrajectories
from .spa_reward import SPARewardWrapper
from .spa_reward_vector import SPARewardVectorWrapper
from .task_subset import TaskSubset

__all__ = [
    "AdmissibleActionsDiscrete",
    "HashedTextObservation",
    "RecordTrajectories",
    "SPARewardVectorWrapper",
    "SPARewardWrapper",
    "TaskSubset",
]
