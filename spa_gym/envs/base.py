"""What every spa-gym text environment shares: the text space, the info contract, the base class.

Every env speaks text both ways. ``reset`` returns ``(observation, info)`` and ``step`` takes any
``str`` and returns ``(observation, reward, terminated, truncated, info)``. ``info`` always carries
the keys of :data:`INFO_KEYS` (``grounded`` on steps only).

``info["state_key"]`` names the full world state: two states have the same key exactly when they
are the same state (wherever the text that describes them differs), which GiGPO's anchor-state
groups and tabular or Monte Carlo methods build on. ``env.unwrapped.clone_state()`` saves the
episode and ``restore_state(saved)`` brings it back, so the env goes on exactly as it would have
from the saved point (the same saved state can be restored any number of times).

Example:
    >>> from spa_gym.envs.base import UnboundedText
    >>> space = UnboundedText()
    >>> space.contains("any text at all, ünïcödé included")
    True
    >>> space.contains(42)
    False
"""

from __future__ import annotations

import copy
import hashlib
import multiprocessing
import string
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import shared_memory as vector_shared_memory

#: Keys present in ``info`` after ``reset`` and ``step``.
INFO_KEYS: tuple[str, ...] = ("task", "task_id", "admissible_actions", "won", "state_key")
#: Keys present in ``info`` after ``step`` only.
STEP_INFO_KEYS: tuple[str, ...] = ("grounded",)

#: Characters the space samples from (sampling is for tests and random agents; ``contains``
#: admits every character).
SAMPLE_CHARSET = string.ascii_letters + string.digits + " .,'"

#: Default bound on text length: far above any observation the envs produce. (Actions longer
#: than this still get the benchmark's invalid-action answer; they are just outside the space.)
#: Async vector envs reserve 4 bytes per character per sub-env of shared memory for it.
DEFAULT_MAX_LENGTH = 1 << 17


class UnboundedText(spaces.Text):
    """A :class:`gymnasium.spaces.Text` that admits any ``str`` up to ``max_length`` characters.

    Gymnasium's ``Text`` only admits characters from a fixed charset, which real observations
    (punctuation, newlines, unicode) break. This subclass keeps ``Text``'s sampling over a small
    charset but lets ``contains`` accept every character.

    Example:
        >>> UnboundedText(max_length=5).contains("a\\nb!")
        True
        >>> UnboundedText(max_length=3).contains("four")
        False
    """

    def __init__(
        self,
        max_length: int = DEFAULT_MAX_LENGTH,
        *,
        min_length: int = 0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnboundedText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnboundedText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


# Async vector envs pass observations through shared memory. Gymnasium's Text stores charset
# indices there, which cannot hold arbitrary characters; UnboundedText stores the length and the
# UTF-32 code points instead.
@vector_shared_memory.create_shared_memory.register(UnboundedText)
def _create_shared_memory(space: UnboundedText, n: int = 1, ctx: ModuleType = multiprocessing) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * (space.max_length + 1))


class SharedTexts(Sequence[str]):
    """A live view of the texts in shared memory (AsyncVectorEnv reads the memory once and keeps
    the result); a deep copy, which AsyncVectorEnv hands to the user, is a plain tuple of ``str``."""

    def __init__(self, rows: np.ndarray):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return tuple(self)[index]
        row = self._rows[index]
        return row[1 : 1 + row[0]].tobytes().decode("utf-32-le", "surrogatepass")

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)


@vector_shared_memory.read_from_shared_memory.register(UnboundedText)
def _read_from_shared_memory(space: UnboundedText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape((n, space.max_length + 1)))


@vector_shared_memory.write_to_shared_memory.register(UnboundedText)
def _write_to_shared_memory(space: UnboundedText, index: int, value: str, shared_memory: Any) -> None:
    codes = np.frombuffer(value.encode("utf-32-le", "surrogatepass"), dtype=np.int32)
    if len(codes) > space.max_length:
        raise ValueError(f"text of {len(codes)} characters exceeds the space's max_length {space.max_length}")
    start = index * (space.max_length + 1)
    destination = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
    destination[start] = len(codes)
    destination[start + 1 : start + 1 + len(codes)] = codes


def check_action(action: Any) -> str:
    """Return ``action`` if it is a ``str``; raise a ``TypeError`` that says what was expected.

    Example:
        >>> check_action("look")
        'look'
    """
    if not isinstance(action, str):
        raise TypeError(
            f"spa-gym text envs take actions as str (a command such as 'look'), "
            f"got {type(action).__name__}: {action!r:.80}"
        )
    return action


@dataclass(frozen=True)
class EnvState:
    """What :meth:`TextEnv.clone_state` saves: the episode's task, outcome so far, last
    observation, random generator state and the env's own episode state."""

    task: str
    task_id: str
    won: bool
    last_observation: str
    rng: dict[str, Any]
    episode: Any


class TextEnv(gym.Env[str, str]):
    """Base class of the spa-gym text environments.

    Subclasses implement :meth:`_reset_task` and :meth:`_step_text`; this class keeps the spaces,
    the type check on actions and the info contract in one place.

    ``_reset_task(options)`` prepares the episode and returns the initial observation.
    ``_step_text(action)`` applies one command and returns ``(observation, reward, terminated,
    grounded)``. Both may read ``self.np_random``. :meth:`_info` builds the contract keys from
    :attr:`task`, :attr:`task_id`, :meth:`admissible_actions` and :attr:`won`.

    For credit assignment every env implements :meth:`_world_state` (a canonical, hashable form of
    the full world state: ``info["state_key"]`` is its digest) and :meth:`_episode_state` /
    :meth:`_load_episode_state` (everything ``step`` reads or changes, for :meth:`clone_state` and
    :meth:`restore_state`).

    Every env also declares its task suite (:meth:`num_tasks`, :meth:`task_ids`) and says with
    :attr:`has_expert` whether :meth:`expert_action` gives an expert's next command, which the
    expert policies, demonstration collection and ``spa-gym play``'s hints use.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    #: Whether :meth:`expert_action` is implemented.
    has_expert: bool = False

    def __init__(self, render_mode: str | None = None, max_text_length: int = DEFAULT_MAX_LENGTH):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.observation_space = UnboundedText(max_text_length)
        self.action_space = UnboundedText(max_text_length)
        self.task: str = ""
        self.task_id: str = ""
        self.won: bool = False
        self._last_observation: str = ""

    # -- to implement -------------------------------------------------------------------------
    def _reset_task(self, options: dict[str, Any]) -> str:
        raise NotImplementedError

    def _step_text(self, action: str) -> tuple[str, float, bool, bool]:
        raise NotImplementedError

    def admissible_actions(self) -> list[str]:
        """The commands the environment accepts in the current state, in the benchmark's order."""
        raise NotImplementedError

    def num_tasks(self) -> int:
        """How many tasks ``reset`` draws from (``options={"task_index": i}`` takes ``0 <= i < num_tasks()``)."""
        raise NotImplementedError

    def task_ids(self) -> list[str]:
        """Every id ``reset(options={"task_id": ...})`` accepts, in task-index order."""
        raise NotImplementedError

    def expert_action(self) -> str | None:
        """The expert's next command from the current state (``None`` once won or when stuck)."""
        raise NotImplementedError(f"{type(self).__name__} has no expert")

    def _extra_info(self) -> dict[str, Any]:
        """Env-specific info keys, added after the contract keys."""
        return {}

    def _world_state(self) -> Hashable:
        """The full world state in a canonical, hashable form (tuples, sorted where order is not
        state): equal exactly when two states are the same. The text that describes a state and
        the random generator are not part of it."""
        raise NotImplementedError

    def _episode_state(self) -> Any:
        """Everything of the current episode that ``step`` reads or changes (not the task suite
        or other data shared by all episodes). :meth:`clone_state` deep-copies it."""
        raise NotImplementedError

    def _load_episode_state(self, state: Any) -> None:
        """Make ``state`` (a private copy, from :meth:`_episode_state`) the current episode."""
        raise NotImplementedError

    # -- states, for credit assignment ----------------------------------------------------------
    @property
    def last_observation(self) -> str:
        """The observation the env last returned (from ``reset``, ``step`` or ``restore_state``)."""
        return self._last_observation

    def state_key(self) -> str:
        """A digest of :meth:`_world_state`: equal exactly when two states are the same (the key
        ``info["state_key"]`` carries)."""
        return hashlib.blake2b(repr(self._world_state()).encode(), digest_size=16).hexdigest()

    def clone_state(self) -> EnvState:
        """A snapshot of the episode (world, task, random generator) that :meth:`restore_state`
        brings back; restoring it any number of times continues exactly as the original would.

        Wrappers keep their own counters: a ``TimeLimit`` around the env does not rewind with it.
        """
        return EnvState(
            task=self.task, task_id=self.task_id, won=self.won, last_observation=self._last_observation,
            rng=copy.deepcopy(self.np_random.bit_generator.state), episode=copy.deepcopy(self._episode_state()),
        )

    def restore_state(self, state: EnvState) -> tuple[str, dict[str, Any]]:
        """Make a snapshot from :meth:`clone_state` the current state (the snapshot stays intact);
        returns the observation and info of that state, as ``reset`` does."""
        if not isinstance(state, EnvState):
            raise TypeError(f"restore_state takes what clone_state returned, got {type(state).__name__}")
        self.task, self.task_id, self.won = state.task, state.task_id, state.won
        self._last_observation = state.last_observation
        self.np_random.bit_generator.state = copy.deepcopy(state.rng)
        self._load_episode_state(copy.deepcopy(state.episode))
        return self._last_observation, self._info()

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self.won = False
        observation = self._reset_task(dict(options or {}))
        self._last_observation = observation
        if self.render_mode == "human":
            self.render()
        return observation, self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        action = check_action(action)
        observation, reward, terminated, grounded = self._step_text(action)
        self._last_observation = observation
        info = self._info()
        info["grounded"] = grounded
        if self.render_mode == "human":
            self.render()
        return observation, reward, terminated, False, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_observation
        if self.render_mode == "human":
            print(self._last_observation)
        return None

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "task": self.task,
            "task_id": self.task_id,
            "admissible_actions": self.admissible_actions(),
            "won": self.won,
            "state_key": self.state_key(),
        }
        info.update(self._extra_info())
        return info
