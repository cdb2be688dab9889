"""Gymnasium wrappers for spa-gym's text envs, one per module.

- :class:`RecordTrajectories`: record episodes as JSONL trajectories.
- :class:`SPARewardWrapper`: SPA's dense rewards from a progress estimator.
- :class:`SPARewardVectorWrapper`: the same for vector envs, the estimator batched across sub-envs.
"""

from .record_trajectories import RecordTrajectories
from .spa_reward import SPARewardWrapper
from .spa_reward_vector import SPARewardVectorWrapper

__all__ = ["RecordTrajectories", "SPARewardVectorWrapper", "SPARewardWrapper"]
