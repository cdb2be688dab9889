"""Trajectory data: episodes as records, their JSONL form, and the simple policies that collect them.

- :mod:`.trajectories`: :class:`Trajectory` (one episode) and its JSONL reader and writer.
- :mod:`.policies`: expert, random and noisy-expert policies over a text env's commands.
- :mod:`.collect`: play episodes with a policy and write them as JSONL.
"""

from .collect import collect_expert_trajectories, collect_trajectories, expert_episode, play_episode
from .policies import ExpertPolicy, NoisyExpertPolicy, Policy, RandomPolicy, make_policy
from .trajectories import SCHEMA_VERSION, Step, Trajectory, TrajectoryWriter, read_trajectories

__all__ = [
    "SCHEMA_VERSION",
    "ExpertPolicy",
    "NoisyExpertPolicy",
    "Policy",
    "RandomPolicy",
    "Step",
    "Trajectory",
    "TrajectoryWriter",
    "collect_expert_trajectories",
    "collect_trajectories",
    "expert_episode",
    "make_policy",
    "play_episode",
    "read_trajectories",
]
