"""AdmissibleActionsDiscrete: a text env's admissible commands as a ``Discrete(K)`` action space.

RL libraries such as stable-baselines3 cannot take text actions. This wrapper numbers the commands
in ``info["admissible_actions"]`` (in the env's own order) and lets the agent pick one by index;
:meth:`AdmissibleActionsDiscrete.action_masks` tells sb3-contrib's ``MaskablePPO`` which indices are
live.

Padding and overflow:

- fewer than ``max_actions`` commands: the remaining indices are masked out; an index past the list
  (a policy that ignores the mask) sends ``padding_action`` (default ``""``), which every spa-gym env
  answers as an invalid command ("Nothing happens." / nothing changes, ``grounded=False``);
- more than ``max_actions`` commands: only the first ``max_actions`` are offered and
  ``info["actions_dropped"]`` says how many were cut. The envs list admissible commands in a stable
  order, so choose ``max_actions`` above the largest list you expect (SPA-ALFWorld-v0 lists at most
  about 60; the default 64 covers it);
- an empty list (rare; e.g. a page with nothing to click): index 0 is left unmasked and sends
  ``padding_action``, because a mask with no live action breaks masked sampling.

Observations stay text: put :class:`~spa_gym.integrations.HashedTextObservation` around this wrapper for
a numeric observation.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class AdmissibleActionsDiscrete(gym.Wrapper[str, np.int64, str, str], gym.utils.RecordConstructorArgs):
    """Pick the env's admissible commands by index; ``action_masks()`` marks the live indices.

    ``info`` gains ``action_text`` (the command sent, after ``step``), ``candidate_actions`` (the
    commands the indices stand for now) and ``actions_dropped`` (how many admissible commands did
    not fit).

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> env = AdmissibleActionsDiscrete(gym.make("SPA-ALFWorld-v0", split="valid_seen"), max_actions=64)
        >>> obs, info = env.reset(seed=0)
        >>> env.action_space
        Discrete(64)
        >>> mask = env.action_masks()
        >>> int(mask.sum()) == len(info["admissible_actions"])
        True
        >>> first = info["candidate_actions"][0]
        >>> obs, reward, terminated, truncated, info = env.step(0)
        >>> info["action_text"] == first and info["grounded"]
        True
    """

    def __init__(self, env: gym.Env[str, str], max_actions: int = 64, padding_action: str = ""):
        if max_actions < 1:
            raise ValueError(f"max_actions must be at least 1, got {max_actions}")
        gym.utils.RecordConstructorArgs.__init__(self, max_actions=max_actions, padding_action=padding_action)
        gym.Wrapper.__init__(self, env)
        self.max_actions = max_actions
        self.padding_action = padding_action
        self.action_space = gym.spaces.Discrete(max_actions)
        self.candidates: list[str] = []

    def _offer(self, info: dict[str, Any]) -> dict[str, Any]:
        admissible = list(info.get("admissible_actions", ()))
        self.candidates = admissible[: self.max_actions]
        info["candidate_actions"] = list(self.candidates)
        info["actions_dropped"] = len(admissible) - len(self.candidates)
        return info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, self._offer(info)

    def step(self, action: int | np.integer) -> tuple[str, float, bool, bool, dict[str, Any]]:
        index = int(action)
        if not 0 <= index < self.max_actions:
            raise ValueError(f"action index {index} is outside Discrete({self.max_actions})")
        text = self.candidates[index] if index < len(self.candidates) else self.padding_action
        obs, reward, terminated, truncated, info = self.env.step(text)
        info["action_text"] = text
        return obs, reward, terminated, truncated, self._offer(info)

    def action_masks(self) -> np.ndarray:
        """Boolean mask of shape ``(max_actions,)``: True where the index names an admissible command."""
        mask = np.zeros(self.max_actions, dtype=bool)
        mask[: max(len(self.candidates), 1)] = True
        return mask
