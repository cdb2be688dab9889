"""Reward redistributors: a trajectory's sparse outcome turned into one reward per step.

One interface, ``redistributor(trajectories) -> list of per-step reward lists``, so trainers and
benchmarks can swap them:

- ``sparse``: R at the last step, 0 elsewhere.
- ``uniform``: R/T at every step (IRCR-like).
- ``outcome-broadcast``: what SPA-RL's *released code* feeds PPO: every step of a trajectory gets
  the leave-one-out outcome advantage ``R - mean(R of the task's other rollouts)`` plus
  ``beta * g_t``. Its progress estimator never enters. (The released code tests grounding by
  looking for "Nothing happens" in the next observation, a constant on WebShop; here ``g_t`` is
  the env's own ``grounded`` flag.)
- ``spa``: the paper's method: :class:`~.spa_reward.SPAReward` of each step, with ``c_t`` from the
  learned :class:`~.estimator.ProgressEstimator`, and R as the env's reward of the last step.

Each redistributor describes itself (``describe()``: its name and settings) for the records of the
runs that use it. They are the reward-shaped :mod:`spa_gym.credit` methods (``target = "rewards"``:
a trainer's critic turns them into advantages); the group and Monte Carlo methods live there.

Example:
    >>> from spa_gym.data.trajectories import Trajectory
    >>> walk = Trajectory("env", "t", "task", "obs")
    >>> walk.add_step("a", "o", 0.0, True); walk.add_step("b", "o", 1.0, False)
    >>> get_redistributor("uniform")([walk])
    [[0.5, 0.5]]
    >>> get_redistributor("sparse")([walk])
    [[0.0, 1.0]]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from ..data.trajectories import Trajectory
from .spa_reward import SPAReward

NAMES = ("sparse", "uniform", "outcome-broadcast", "spa")


class Redistributor(Protocol):
    """Maps trajectories to per-step rewards (one list per trajectory, one value per step)."""

    name: str
    target: str

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]: ...

    def describe(self) -> dict[str, Any]:
        """The name and settings, for records."""
        ...


class SparseRedistributor:
    """R at the last step."""

    name = "sparse"
    target = "rewards"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        return [[0.0] * (len(t.steps) - 1) + [t.final_reward] if t.steps else [] for t in trajectories]


class UniformRedistributor:
    """R / T at every step."""

    name = "uniform"
    target = "rewards"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        return [[t.final_reward / len(t.steps)] * len(t.steps) if t.steps else [] for t in trajectories]


class OutcomeBroadcastRedistributor:
    """The released SPA-RL code's rewards: leave-one-out outcome advantage on every step, plus grounding."""

    name = "outcome-broadcast"
    target = "rewards"

    def __init__(self, beta: float = 0.5):
        self.beta = beta

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "beta": self.beta}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        by_task: dict[str, list[float]] = defaultdict(list)
        for t in trajectories:
            by_task[t.task_id].append(t.final_reward)
        out = []
        for t in trajectories:
            rewards = by_task[t.task_id]
            others = len(rewards) - 1
            baseline = (sum(rewards) - t.final_reward) / others if others else 0.0
            advantage = t.final_reward - baseline
            out.append([advantage + self.beta * float(step.grounded) for step in t.steps])
        return out


class SPARedistributor:
    """The paper's SPA rewards: :class:`~.spa_reward.SPAReward` of each step.

    With an estimator that reads a task prior, the c_t sum to R - c_0: c_0 is no step's doing and
    is left out, which makes the progress term potential-based shaping.
    """

    name = "spa"
    target = "rewards"

    def __init__(self, estimator: Any, reward: SPAReward = SPAReward()):
        self.estimator = estimator
        self.reward = reward

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.reward.as_dict()}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        contributions = self.estimator.score(trajectories)
        return [
            [self.reward(c, step.grounded, t.final_reward if i == len(t.steps) - 1 else 0.0)
             for i, (c, step) in enumerate(zip(cs, t.steps))]
            for t, cs in zip(trajectories, contributions)
        ]


def get_redistributor(name: str, **kwargs: Any) -> Redistributor:
    """A redistributor by name (``spa`` needs ``estimator=`` and takes ``reward=SPAReward(...)``)."""
    if name == "sparse":
        return SparseRedistributor()
    if name == "uniform":
        return UniformRedistributor()
    if name == "outcome-broadcast":
        return OutcomeBroadcastRedistributor(**kwargs)
    if name == "spa":
        if "estimator" not in kwargs:
            raise ValueError("the 'spa' redistributor needs estimator=<ProgressEstimator>")
        return SPARedistributor(**kwargs)
    raise ValueError(f"unknown redistributor {name!r}; expected one of {NAMES}")
