"""Simple text policies for spa-gym envs: gather trajectories before any LLM agent exists.

A policy is any object with ``__call__(observation: str, info: dict) -> str`` (the next command)
and ``reset(seed: int | None)`` (called once at the start of each episode, before ``env.reset``;
``None`` keeps the policy's random stream going). Three are built in:

- :class:`ExpertPolicy`: the env's expert (``env.unwrapped.expert_action()``); wins every
  generated task.
- :class:`RandomPolicy`: a uniform draw from ``info["admissible_actions"]``.
- :class:`NoisyExpertPolicy`: the expert, except that with probability ``epsilon`` it takes a
  random admissible action or a plausible but invalid command instead. This gives the mix of won
  and lost episodes, grounded and ungrounded steps that the progress estimator learns from.

The randomised policies are seeded and deterministic: the stream of an episode depends only on
the policy's ``seed`` and the episode seed passed to ``reset``, so the same collection run gives
the same trajectories.

:func:`make_policy` builds one by name (``"expert"``, ``"random"``, ``"noisy-expert"``); it is the
extension point where LLM agents (a model path) will plug in once :mod:`spa_gym.agents` has them.

Example:
    >>> import gymnasium as gym, spa_gym
    >>> env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
    >>> policy = make_policy("noisy-expert", env, epsilon=0.0)
    >>> policy.reset(0)
    >>> obs, info = env.reset(seed=0)
    >>> policy(obs, info) == env.unwrapped.expert_action()
    True
"""

from __future__ import annotations

import os
import re
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from ..envs.base import TextEnv

#: Names :func:`make_policy` knows.
POLICY_NAMES: tuple[str, ...] = ("expert", "random", "noisy-expert")

#: Commands no spa-gym env admits; the tail of every list of invalid commands.
NONSENSE_COMMANDS: tuple[str, ...] = ("fly to the moon", "")

_NUMBER = re.compile(r"\d+")


@runtime_checkable
class Policy(Protocol):
    """What :func:`~spa_gym.data.collect.play_episode` needs from a policy.

    ``__call__`` may return ``None`` to give up: the episode then ends there and is recorded as
    it stands (only :class:`ExpertPolicy` with ``stop_when_stuck=True`` does this).
    """

    def __call__(self, observation: str, info: dict[str, Any]) -> str | None: ...

    def reset(self, seed: int | None = None) -> None: ...


def _episode_rng(policy_seed: int, episode_seed: int | None,
                 current: np.random.Generator | None) -> np.random.Generator:
    if episode_seed is None:
        return current if current is not None else np.random.default_rng(policy_seed)
    return np.random.default_rng([policy_seed, episode_seed])


class ExpertPolicy:
    """The env's expert: ``env.unwrapped.expert_action()`` from the current state.

    The expert reads the env's state, not the observation, so call the policy on the env it was
    built with. When the expert returns ``None`` mid-episode (it is stuck, e.g. on a real game file
    it cannot solve) the policy returns the first admissible action, so the episode goes on to the
    step limit; with ``stop_when_stuck=True`` it returns ``None`` instead and the episode ends
    there (what expert demonstrations want).

    Raises:
        TypeError: the env has no ``expert_action()``.
    """

    def __init__(self, env: gym.Env, stop_when_stuck: bool = False):
        unwrapped = env.unwrapped
        if not (isinstance(unwrapped, TextEnv) and unwrapped.has_expert):
            raise TypeError(
                f"{type(unwrapped).__name__} has no expert_action(): the expert and noisy-expert "
                f"policies need an env with an expert"
            )
        self._expert = unwrapped.expert_action
        self.stop_when_stuck = stop_when_stuck

    def reset(self, seed: int | None = None) -> None:
        """Nothing to reset: the expert is deterministic."""

    def __call__(self, observation: str, info: dict[str, Any]) -> str | None:
        action = self._expert()
        if action is None and not self.stop_when_stuck:
            admissible = info.get("admissible_actions") or []
            return admissible[0] if admissible else "look"
        return action


class RandomPolicy:
    """A uniform draw from ``info["admissible_actions"]`` (seeded).

    Example:
        >>> policy = RandomPolicy(seed=3)
        >>> policy.reset(0)
        >>> policy("", {"admissible_actions": ["look", "inventory"]}) in ("look", "inventory")
        True
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = _episode_rng(self.seed, seed, self._rng)

    def __call__(self, observation: str, info: dict[str, Any]) -> str:
        admissible = info["admissible_actions"]
        return str(admissible[int(self._rng.integers(len(admissible)))])


def invalid_commands(admissible: list[str]) -> list[str]:
    """Plausible but invalid commands for a state, derived from its admissible commands.

    In order: misspellings of a few admissible commands (the first two letters of a word swapped), the
    same commands with a wrong number, ``go to`` a receptacle the agent is already at (ALFWorld:
    one it can ``examine`` but not ``go to``), then :data:`NONSENSE_COMMANDS`. None of them is
    admissible (compared after ``strip()``, as the envs compare); duplicates are dropped.

    Example:
        >>> invalid_commands(["go to cabinet 1", "examine desk 1", "look"])
        ['go to acbinet 1', 'xeamine desk 1', 'olok', 'go to cabinet 2', 'examine desk 2', 'go to desk 1', 'fly to the moon', '']
    """  # noqa: E501 (doctest expected output)
    valid = {command.strip() for command in admissible}
    picks = [admissible[i] for i in sorted({0, len(admissible) // 2, len(admissible) - 1})] if admissible else []
    candidates = [_misspell(command) for command in picks]
    candidates += [_wrong_number(command, valid) for command in picks]
    candidates += ["go to " + command[len("examine "):] for command in admissible if command.startswith("examine ")]
    candidates += list(NONSENSE_COMMANDS)
    invalid: list[str] = []
    for candidate in candidates:
        if candidate is not None and candidate.strip() not in valid and candidate not in invalid:
            invalid.append(candidate)
    return invalid or [_surely_invalid(valid)]


def _misspell(command: str) -> str | None:
    """Swap the first two letters of the command's first word of three letters or more."""
    words = command.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 3 and word[0] != word[1]:
            words[i] = word[1] + word[0] + word[2:]
            return " ".join(words)
    return None


def _wrong_number(command: str, valid: set[str]) -> str | None:
    """The command with its last number replaced by the smallest other one that is not admissible."""
    numbers = list(_NUMBER.finditer(command))
    if not numbers:
        return None
    last = numbers[-1]
    for n in range(1, 1000):
        if str(n) == last.group():
            continue
        candidate = command[: last.start()] + str(n) + command[last.end():]
        if candidate.strip() not in valid:
            return candidate
    return None


def _surely_invalid(valid: set[str]) -> str:
    candidate = NONSENSE_COMMANDS[0]
    while candidate in valid:
        candidate += " again"
    return candidate


class NoisyExpertPolicy:
    """The expert with epsilon noise: some random admissible actions, some invalid commands.

    At each step, with probability ``epsilon`` the policy ignores the expert and takes, with
    probability ``1 - invalid_fraction``, a uniform draw from the admissible actions, else a
    uniform draw from :func:`invalid_commands` of the state (never admissible, so the step is
    ungrounded: ALFWorld answers "Nothing happens."). The expert replans from whatever state that
    leaves. ``epsilon=0`` is exactly :class:`ExpertPolicy`.

    Raises:
        TypeError: the env has no ``expert_action()``.
        ValueError: ``epsilon`` or ``invalid_fraction`` outside [0, 1].
    """

    def __init__(self, env: gym.Env, epsilon: float = 0.3, seed: int = 0, invalid_fraction: float = 0.5):
        for name, value in (("epsilon", epsilon), ("invalid_fraction", invalid_fraction)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        self.expert = ExpertPolicy(env)
        self.epsilon = float(epsilon)
        self.invalid_fraction = float(invalid_fraction)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = _episode_rng(self.seed, seed, self._rng)

    def __call__(self, observation: str, info: dict[str, Any]) -> str:
        if self._rng.random() >= self.epsilon:
            return self.expert(observation, info)
        admissible = list(info["admissible_actions"])
        if self._rng.random() < self.invalid_fraction or not admissible:
            choices = invalid_commands(admissible)
        else:
            choices = admissible
        return str(choices[int(self._rng.integers(len(choices)))])


def _looks_like_path(name: str) -> bool:
    return (
        os.sep in name or "/" in name or "\\" in name or name.startswith((".", "~"))
        or os.path.exists(os.path.expanduser(name))
    )


def make_policy(name: str, env: gym.Env, *, epsilon: float = 0.3, seed: int = 0) -> Policy:
    """Build a policy by name: ``"expert"``, ``"random"`` or ``"noisy-expert"``.

    ``epsilon`` is the noisy expert's noise rate; ``seed`` seeds the randomised policies.

    Raises:
        ValueError: an unknown name. A model path (an LLM agent) is not a policy yet: LLM-model
            policies come with :mod:`spa_gym.agents`, and will plug in here.
        TypeError: ``"expert"``/``"noisy-expert"`` on an env without ``expert_action()``.

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> type(make_policy("random", gym.make("SPA-ALFWorld-v0"), seed=1)).__name__
        'RandomPolicy'
    """
    if name == "expert":
        return ExpertPolicy(env)
    if name == "random":
        return RandomPolicy(seed)
    if name == "noisy-expert":
        return NoisyExpertPolicy(env, epsilon=epsilon, seed=seed)
    valid = ", ".join(POLICY_NAMES)
    if _looks_like_path(name):
        raise ValueError(
            f"policy {name!r} looks like a model path: LLM-model policies come with the agents "
            f"(spa_gym.agents), which are not available yet; use one of: {valid}"
        )
    raise ValueError(
        f"unknown policy {name!r}; valid names: {valid} (a model path, i.e. an LLM agent, is not available yet)"
    )
