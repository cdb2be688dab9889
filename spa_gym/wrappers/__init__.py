"""Gymnasium wrappers for spa-gym's text envs, one per module.

Today: :class:`RecordTrajectories` (record episodes as JSONL trajectories). The SPA reward
wrapper, ReAct prompting and the stable-baselines3 adapters come with their issues.
"""

from .record_trajectories import RecordTrajectories

__all__ = ["RecordTrajectories"]
