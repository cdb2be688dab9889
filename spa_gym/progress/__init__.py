"""Trajectories and (to come) the progress estimator and reward redistributors of SPA.

Today: :mod:`.trajectories` (the trajectory data and its JSONL form) and :mod:`.collect`
(expert demonstrations from any env with an expert).
"""

from .collect import collect_expert_trajectories, expert_episode
from .trajectories import SCHEMA_VERSION, Step, Trajectory, TrajectoryWriter, read_trajectories

__all__ = [
    "SCHEMA_VERSION",
    "Step",
    "Trajectory",
    "TrajectoryWriter",
    "collect_expert_trajectories",
    "expert_episode",
    "read_trajectories",
]
