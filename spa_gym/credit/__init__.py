"""Credit assignment: the ways a sparse outcome becomes a learning signal for each step.

One interface for every method: ``method(trajectories) -> one list of floats per trajectory, one
value per step``, plus ``method.name``, ``method.describe()`` (for records) and ``method.target``:

- ``"rewards"``: per-step rewards; the trainer's learned critic turns them into advantages (GAE
  over turns). ``sparse``, ``uniform``, ``outcome-broadcast`` and ``spa``
  (:mod:`spa_gym.progress.redistribute`). ``sparse`` rewards with that critic are turn-level PPO
  ("turn-critic").
- ``"advantages"``: per-step advantages used as they are, no critic. ``grpo`` and ``rloo``
  (:mod:`.groups`), ``gigpo`` (:mod:`.gigpo`), ``mc-prm`` (:mod:`.monte_carlo`).

Group methods compare the episodes of the same task (``task_id``) in the batch, so the trainer plays
several episodes per task (a group); ``mc-prm`` needs a value function over saved states, which
the trainer builds from ``clone_state`` / ``restore_state`` and counts in its budget.

Example:
    >>> from spa_gym.data.trajectories import Trajectory
    >>> won, lost = Trajectory("env", "t", "", ""), Trajectory("env", "t", "", "")
    >>> won.add_step("a", "o", 1.0, True, state_key="s0"); lost.add_step("b", "o", 0.0, True, state_key="s0")
    >>> [get_credit_method(name)([won, lost]) for name in ("sparse", "rloo")]
    [[[1.0], [0.0]], [[1.0], [-1.0]]]
    >>> get_credit_method("gigpo").target
    'advantages'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..data.trajectories import Trajectory
from ..progress.redistribute import NAMES as REWARD_METHODS
from ..progress.redistribute import get_redistributor
from .gigpo import GiGPOCredit
from .groups import GRPOCredit, RLOOCredit, group_normalise
from .monte_carlo import MCPRMCredit, MonteCarloValues, mc_prm_credits

ADVANTAGE_METHODS = ("grpo", "rloo", "gigpo", "mc-prm")
METHODS = REWARD_METHODS + ADVANTAGE_METHODS
TARGETS = ("rewards", "advantages")


class CreditMethod(Protocol):
    """Per-step credit for trajectories (see the module docstring for ``target``)."""

    name: str
    target: str

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]: ...

    def describe(self) -> dict[str, Any]:
        """The name and settings, for records."""
        ...


def get_credit_method(name: str, **kwargs: Any) -> CreditMethod:
    """A credit method by name; settings as keyword arguments (``spa`` needs ``estimator=``,
    ``mc-prm`` needs ``values=``)."""
    if name in REWARD_METHODS:
        return get_redistributor(name, **kwargs)
    if name == "grpo":
        return GRPOCredit(**kwargs)
    if name == "rloo":
        return RLOOCredit(**kwargs)
    if name == "gigpo":
        return GiGPOCredit(**kwargs)
    if name == "mc-prm":
        if "values" not in kwargs:
            raise ValueError("the 'mc-prm' credit method needs values=<function of trajectories>")
        return MCPRMCredit(**kwargs)
    raise ValueError(f"unknown credit method {name!r}; expected one of {METHODS}")


__all__ = [
    "ADVANTAGE_METHODS",
    "METHODS",
    "TARGETS",
    "CreditMethod",
    "GRPOCredit",
    "GiGPOCredit",
    "MCPRMCredit",
    "MonteCarloValues",
    "RLOOCredit",
    "get_credit_method",
    "group_normalise",
    "mc_prm_credits",
]
