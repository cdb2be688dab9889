"""Group-relative credit: GRPO and RLOO, and the group normalisation GiGPO shares with them.

A *group* is the episodes of one task played from the same initial state (the trainer plays G of
them per task). Each episode's outcome ``R`` (the sum of its env rewards) is compared with its
group's, and every step of the episode gets that one advantage (no critic):

- ``grpo``: ``(R - mean) / (std + eps)`` over the group (Shao et al. 2024, DeepSeekMath);
  ``scale="none"`` drops the division (Dr. GRPO, and GiGPO's ``F_norm = 1``).
- ``rloo``: ``R - mean(R of the group's other episodes)`` (Ahmadian et al. 2024).

Conventions, as verl and verl-agent compute them: ``std`` is the sample standard deviation (n - 1);
a group of one has no baseline (mean 0, scale 1), so its value passes through unchanged.

Example:
    >>> group_normalise([1.0, 0.0, 0.0, 1.0], ["a", "a", "a", "a"], scale="none")
    [0.5, -0.5, -0.5, 0.5]
    >>> [round(v, 4) for v in group_normalise([1.0, 0.0], ["a", "a"])]  # std of (1, 0) is 0.7071
    [0.7071, -0.7071]
    >>> group_normalise([3.0, 1.0], ["a", "b"])  # two groups of one
    [3.0, 1.0]
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from ..data.trajectories import Trajectory

SCALES = ("std", "none")
#: Added to the standard deviation before dividing (verl's epsilon).
EPSILON = 1e-6


def group_normalise(values: Sequence[float], groups: Sequence[Hashable], scale: str = "std",
                    epsilon: float = EPSILON) -> list[float]:
    """Each value minus its group's mean, divided by the group's sample std plus ``epsilon`` when
    ``scale="std"``; a group of one keeps its value (mean 0, scale 1)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    if len(values) != len(groups):
        raise ValueError(f"{len(values)} values but {len(groups)} group labels")
    members: dict[Hashable, list[float]] = defaultdict(list)
    for value, group in zip(values, groups):
        members[group].append(value)
    stats = {}
    for group, vals in members.items():
        if len(vals) == 1:
            stats[group] = (0.0, 1.0)
        else:
            stats[group] = (statistics.fmean(vals), statistics.stdev(vals) + epsilon if scale == "std" else 1.0)
    return [(value - stats[group][0]) / stats[group][1] for value, group in zip(values, groups)]


def episode_return(trajectory: Trajectory) -> float:
    """The sum of the episode's env rewards (the outcome groups compare)."""
    return sum(step.reward for step in trajectory.steps)


def broadcast(trajectories: Sequence[Trajectory], per_episode: Sequence[float]) -> list[list[float]]:
    """One value per episode copied to each of its steps."""
    return [[value] * len(t.steps) for t, value in zip(trajectories, per_episode)]


class GRPOCredit:
    """GRPO's episode-level, group-normalised advantage on every step.

    Example:
        >>> from spa_gym.data.trajectories import Trajectory
        >>> won, lost = Trajectory("env", "t1", "", ""), Trajectory("env", "t1", "", "")
        >>> won.add_step("a", "o", 0.0, True); won.add_step("b", "o", 1.0, True); lost.add_step("c", "o", 0.0, True)
        >>> GRPOCredit(scale="none")([won, lost])
        [[0.5, 0.5], [-0.5]]
    """

    name = "grpo"
    target = "advantages"

    def __init__(self, scale: str = "std"):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        self.scale = scale

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "scale": self.scale}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        advantages = group_normalise([episode_return(t) for t in trajectories],
                                     [t.task_id for t in trajectories], self.scale)
        return broadcast(trajectories, advantages)


class RLOOCredit:
    """REINFORCE leave-one-out: the outcome minus the mean outcome of the group's other episodes.

    Example:
        >>> from spa_gym.data.trajectories import Trajectory
        >>> walks = [Trajectory("env", "t1", "", "") for _ in range(3)]
        >>> for walk, reward in zip(walks, [1.0, 0.0, 0.0]):
        ...     walk.add_step("a", "o", reward, True)
        >>> RLOOCredit()(walks)
        [[1.0], [-0.5], [-0.5]]
    """

    name = "rloo"
    target = "advantages"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        outcomes = [episode_return(t) for t in trajectories]
        totals: dict[str, list[float]] = defaultdict(list)
        for t, outcome in zip(trajectories, outcomes):
            totals[t.task_id].append(outcome)
        advantages = []
        for t, outcome in zip(trajectories, outcomes):
            group = totals[t.task_id]
            others = len(group) - 1
            advantages.append(outcome - (sum(group) - outcome) / others if others else outcome)
        return broadcast(trajectories, advantages)
