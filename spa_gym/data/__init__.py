"""Trajectory data: episodes as records, their JSONL form, and the simple policies that collect them.

- :mod:`.trajectories`: :class:`Trajectory` (one episode) and its JSONL reader and writer.
- :mod:`.policies`: expert, random and noisy-expert policies over a text env's commands.
- :mod:`.collect`: play episodes with a policy and write them as JSONL.
- :mod:`.formats`: the formats the field exchanges (ETO, AgentGym, SPA-RL, WebShop's demonstrations),
  read as trajectories, written from them, converted.
- :mod:`.replay`: replay a recorded trajectory in its env and find where the env answers otherwise
  (its ``replay`` function stays in the module, whose name it would hide).
"""

from .collect import collect_expert_trajectories, collect_trajectories, expert_episode, play_episode
from .formats import FORMATS, convert, detect, load_trajectories, write_trajectories
from .policies import ExpertPolicy, NoisyExpertPolicy, Policy, RandomPolicy, make_policy
from .replay import ReplayReport, replay_all
from .trajectories import SCHEMA_VERSION, Step, Trajectory, TrajectoryWriter, read_trajectories

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "ExpertPolicy",
    "NoisyExpertPolicy",
    "Policy",
    "RandomPolicy",
    "ReplayReport",
    "Step",
    "Trajectory",
    "TrajectoryWriter",
    "collect_expert_trajectories",
    "collect_trajectories",
    "convert",
    "detect",
    "expert_episode",
    "load_trajectories",
    "make_policy",
    "play_episode",
    "read_trajectories",
    "replay_all",
    "write_trajectories",
]
