"""Monte Carlo process rewards: each state's value from rollouts of the current policy.

The value of the state a step was taken in, ``V(s_t)``, is the mean return of ``rollouts``
continuations of the current policy from that state (restored with ``clone_state`` /
``restore_state``, within the steps the episode had left), as AgentPRM's Monte Carlo targets
are (Choudhury 2025, arXiv 2502.10325). A step's credit is the change it made:

    ``A_t = r_t + V(s_(t+1)) - V(s_t)``, with ``V = 0`` once the episode is over,

so the credits of an episode sum to ``R - V(s_0)``. No critic is trained; the price is the
rollouts, which :class:`MonteCarloValues` counts (env steps and policy calls) for the budget.

Example:
    >>> from spa_gym.data.trajectories import Trajectory
    >>> walk = Trajectory("env", "t", "", "")
    >>> walk.add_step("a", "o", 0.0, True); walk.add_step("b", "o", 1.0, True)
    >>> mc_prm_credits(walk, [0.25, 0.5])  # V(s0) = 0.25, V(s1) = 0.5, the episode ends after b
    [0.25, 0.5]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..data.trajectories import Trajectory
from ..envs.base import EnvState, TextEnv

#: A policy for rollouts: (observation, info) -> the command to send (any :mod:`spa_gym.data.policies` policy).
Act = Callable[[str, dict[str, Any]], str]


def mc_prm_credits(trajectory: Trajectory, values: Sequence[float]) -> list[float]:
    """``r_t + V(s_(t+1)) - V(s_t)`` for each step, given ``V`` of the state before each step."""
    if len(values) != len(trajectory.steps):
        raise ValueError(f"{len(values)} state values for {len(trajectory.steps)} steps")
    after = list(values[1:]) + [0.0]
    return [step.reward + v_next - v for step, v, v_next in zip(trajectory.steps, values, after)]


class MonteCarloValues:
    """``V(s)`` = the mean return of ``rollouts`` continuations of ``act`` from a saved state.

    ``env`` is any spa-gym env (its ``unwrapped`` is restored and stepped, so wrappers and their
    step limits are bypassed: ``steps_left`` bounds each rollout). ``env_steps`` and
    ``policy_calls`` count the work done, for the budget.

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
        >>> _ = env.reset(seed=0, options={"task_index": 0})
        >>> values = MonteCarloValues(env, act=lambda obs, info: "look", rollouts=2)
        >>> values(env.unwrapped.clone_state(), steps_left=3), values.env_steps
        (0.0, 6)
    """

    def __init__(self, env: Any, act: Act, rollouts: int = 4):
        if rollouts < 1:
            raise ValueError(f"rollouts must be at least 1, got {rollouts}")
        self.env: TextEnv = env.unwrapped
        self.act, self.rollouts = act, rollouts
        self.env_steps = 0
        self.policy_calls = 0

    def __call__(self, state: EnvState, steps_left: int) -> float:
        total = 0.0
        for _ in range(self.rollouts):
            observation, info = self.env.restore_state(state)
            for _ in range(steps_left):
                action = self.act(observation, info)
                self.policy_calls += 1
                observation, reward, terminated, _, info = self.env.step(action)
                self.env_steps += 1
                total += reward
                if terminated:
                    break
        return total / self.rollouts


class MCPRMCredit:
    """Monte Carlo process-reward credit: ``r_t + V(s_(t+1)) - V(s_t)`` from a value function.

    ``values(trajectories)`` returns ``V`` of the state before each step of each trajectory; the
    trainer builds it (it holds the saved states and the current policy, e.g. with
    :class:`MonteCarloValues`).

    Example:
        >>> from spa_gym.data.trajectories import Trajectory
        >>> walk = Trajectory("env", "t", "", "")
        >>> walk.add_step("a", "o", 0.0, True); walk.add_step("b", "o", 0.0, True)
        >>> MCPRMCredit(lambda walks: [[0.5, 1.0]])([walk])  # the last step threw away a sure win
        [[0.5, -1.0]]
    """

    name = "mc-prm"
    target = "advantages"

    def __init__(self, values: Callable[[Sequence[Trajectory]], list[list[float]]], rollouts: int = 4):
        self.values, self.rollouts = values, rollouts

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "rollouts": self.rollouts}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        values = self.values(trajectories)
        return [mc_prm_credits(t, v) for t, v in zip(trajectories, values)]

