"""SPA's per-step reward, written once: ``r_t = alpha * c_t + beta * g_t`` (+ the env's reward).

``c_t`` is the progress estimator's contribution of action ``t`` and ``g_t`` is 1 when the env
grounded (executed) the action, else 0. SPA-RL (arXiv 2505.20732) combines the two; its exact
weights are not published in a form we could retrieve, so alpha 1 and beta 0.5 are our defaults. With
``keep_final_reward`` the env's own reward is added, which on the sparse benchmarks is the outcome
R at the last step. :class:`SPAReward` is used by the wrappers (one env or a vector env), the
trajectory redistributor and the stable-baselines3 adapter alike.

Example:
    >>> SPAReward()(progress=0.25, grounded=True, env_reward=1.0)
    1.75
    >>> SPAReward(alpha=2.0, beta=0.0, keep_final_reward=False)(progress=0.25, grounded=True, env_reward=1.0)
    0.5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SPAReward:
    """The weights of SPA's reward: ``alpha`` on progress, ``beta`` on grounding."""

    alpha: float = 1.0
    beta: float = 0.5
    keep_final_reward: bool = True

    def __call__(self, progress: float, grounded: bool, env_reward: float = 0.0) -> float:
        """The dense reward of one step."""
        reward = self.alpha * progress + self.beta * float(grounded)
        return reward + env_reward if self.keep_final_reward else reward

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict, for records such as ``ppo_history.json``."""
        return asdict(self)
