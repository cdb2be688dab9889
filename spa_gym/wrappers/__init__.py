"""Gymnasium wrappers for spa-gym's text envs, one per module.

- :class:`RecordTrajectories`: record episodes as JSONL trajectories.
- :class:`SPARewardWrapper`: SPA's dense rewards from a progress estimator.
"""

from .record_trajectories import RecordTrajectories
from .spa_reward import SPARewardWrapper

__all__ = ["RecordTrajectories", "SPARewardWrapper"]
