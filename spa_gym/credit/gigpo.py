"""GiGPO: group-in-group credit, episode groups plus step groups of identical anchor states.

Feng et al. 2025, "Group-in-Group Policy Optimization for LLM Agent Training" (arXiv 2505.10978):

1. Episode level: ``A_E(tau) = (R(tau) - mean) / F_norm`` over the episodes of the task's group
   (GRPO's advantage; :func:`~.groups.group_normalise`).
2. Step level: every step whose *anchor state* is the same, across all the group's episodes,
   forms a step group. A step's discounted return ``R_t = sum_k gamma^k r_(t+k)`` is compared
   within its step group: ``A_S = (R_t - mean) / F_norm``.
3. ``A = A_E + omega * A_S`` on each step. No critic and no extra rollouts: the grouping is one
   pass over hashes.

Anchors: verl-agent groups steps by identical observation text; spa-gym's envs give the state
itself (``info["state_key"]``, recorded as ``Step.state_key``), so two steps share an anchor when
the world is the same, whatever the text said (``anchor="observation"`` groups by text instead).
Anchors never cross tasks. ``F_norm`` is the sample std (``scale="std"``, the paper's main
variant) or 1 (``scale="none"``); a step group of one keeps its return (verl-agent's convention).
Defaults: gamma 0.95 and omega 1, the paper's ALFWorld and WebShop setting.

Example:
    >>> from spa_gym.data.trajectories import Trajectory
    >>> a, b = Trajectory("env", "t", "", "start"), Trajectory("env", "t", "", "start")
    >>> a.add_step("left", "s1", 0.0, True, state_key="s0"); a.add_step("win", "end", 1.0, True, state_key="s1")
    >>> b.add_step("right", "s2", 0.0, True, state_key="s0"); b.add_step("lose", "end", 0.0, True, state_key="s2")
    >>> GiGPOCredit(gamma=0.5, scale="none")([a, b])  # steps 1 share anchor s0: returns 0.5 and 0
    [[0.75, 1.5], [-0.75, -0.5]]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from ..data.trajectories import Trajectory
from .groups import SCALES, episode_return, group_normalise

ANCHORS = ("state", "observation")


def discounted_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """``R_t = r_t + gamma * R_(t+1)`` for every step, from the last backwards.

    Example:
        >>> discounted_returns([0.0, 0.0, 1.0], 0.5)
        [0.25, 0.5, 1.0]
    """
    returns, running = [], 0.0
    for reward in reversed(rewards):
        running = reward + gamma * running
        returns.append(running)
    return returns[::-1]


def anchors(trajectory: Trajectory, anchor: str = "state") -> list[Hashable]:
    """Each step's anchor: (task id, the state it was taken in), by key or by observation text."""
    if anchor == "observation":
        texts = [trajectory.initial_observation] + [step.observation for step in trajectory.steps[:-1]]
        return [(trajectory.task_id, text) for text in texts]
    if anchor != "state":
        raise ValueError(f"anchor must be one of {ANCHORS}, got {anchor!r}")
    missing = [number for number, step in enumerate(trajectory.steps) if step.state_key is None]
    if missing:
        raise ValueError(f"GiGPO's state anchors need Step.state_key; step {missing[0]} of task "
                         f"{trajectory.task_id!r} has none (record with a spa-gym env, or anchor='observation')")
    return [(trajectory.task_id, step.state_key) for step in trajectory.steps]


class GiGPOCredit:
    """GiGPO's advantages: episode-group advantage plus ``step_weight`` times the anchor-group one."""

    name = "gigpo"
    target = "advantages"

    def __init__(self, gamma: float = 0.95, step_weight: float = 1.0, scale: str = "std", anchor: str = "state"):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        if anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {ANCHORS}, got {anchor!r}")
        self.gamma, self.step_weight, self.scale, self.anchor = gamma, step_weight, scale, anchor

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "gamma": self.gamma, "step_weight": self.step_weight, "scale": self.scale,
                "anchor": self.anchor}

    def step_groups(self, trajectories: Sequence[Trajectory]) -> list[list[Hashable]]:
        """The anchor of every step (steps with equal anchors form one step group)."""
        return [anchors(t, self.anchor) for t in trajectories]

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        episode = group_normalise([episode_return(t) for t in trajectories], [t.task_id for t in trajectories],
                                  self.scale)
        returns = [discounted_returns([s.reward for s in t.steps], self.gamma) for t in trajectories]
        labels = self.step_groups(trajectories)
        flat = group_normalise([r for rs in returns for r in rs], [g for gs in labels for g in gs], self.scale)
        out, start = [], 0
        for t, a_episode in zip(trajectories, episode):
            steps = flat[start : start + len(t.steps)]
            start += len(t.steps)
            out.append([a_episode + self.step_weight * a_step for a_step in steps])
        return out
