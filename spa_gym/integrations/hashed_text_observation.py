"""HashedTextObservation: a text env's observation as a fixed-size ``Box`` of hashed features.

For RL libraries whose policies take vectors (stable-baselines3's ``MlpPolicy``). The vector is,
in order:

1. the observation text: hashed bag of words and word bigrams (``text_features`` values);
2. the task (``info["task"]``): the same, ``task_features`` values;
3. for each of the ``max_actions`` candidate commands (slot ``i`` is what action index ``i`` sends,
   see :class:`~spa_gym.integrations.AdmissibleActionsDiscrete`): its hashed words
   (``action_features`` values), then the share of its words that occur in the task, the share
   that occur in the observation, and 1.0 for a live slot. Empty slots are all zeros.

Each hashed segment is L2-normalised, so every value lies in [-1, 1]. Hashing is CRC-32 (the same
in every process, unlike Python's ``hash``), with a sign bit so collisions tend to cancel.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
#: Per-slot scalars after the hashed words: share in task, share in observation, live flag.
SLOT_SCALARS = 3
_CACHE_LIMIT = 50_000


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words.

    Example:
        >>> words("You arrive at loc 5. On the countertop 1, you see a mug 2.")[:4]
        ['you', 'arrive', 'at', 'loc']
    """
    return _WORD.findall(text.lower())


def hashed_features(text: str, dim: int) -> np.ndarray:
    """Signed hashed counts of ``text``'s words and word bigrams, L2-normalised (zeros for no words).

    Example:
        >>> vector = hashed_features("take mug 1 from countertop 1", 32)
        >>> vector.shape, round(float(np.linalg.norm(vector)), 6)
        ((32,), 1.0)
        >>> bool(np.array_equal(vector, hashed_features("take mug 1 from countertop 1", 32)))
        True
    """
    vector = np.zeros(dim, dtype=np.float32)
    tokens = words(text)
    for token in tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]:
        code = zlib.crc32(token.encode())
        vector[code % dim] += 1.0 if code & 0x80000000 else -1.0
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


class HashedTextObservation(gym.Wrapper[np.ndarray, Any, str, Any], gym.utils.RecordConstructorArgs):
    """Turn the text observation (plus the task and the candidate commands) into a ``Box`` vector.

    Args:
        env: a spa-gym env, usually already wrapped in :class:`AdmissibleActionsDiscrete`.
        max_actions: candidate slots; default: ``env.action_space.n`` when it is ``Discrete``.
        text_features, task_features, action_features: hashed dimensions of each segment.

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> from spa_gym.integrations import AdmissibleActionsDiscrete
        >>> env = HashedTextObservation(AdmissibleActionsDiscrete(gym.make("SPA-ALFWorld-v0"), max_actions=8))
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape == env.observation_space.shape == (256 + 128 + 8 * (32 + 3),)
        True
        >>> info["text_observation"].startswith("-= Welcome to TextWorld")
        True
    """

    def __init__(self, env: gym.Env, max_actions: int | None = None, text_features: int = 256,
                 task_features: int = 128, action_features: int = 32):
        if max_actions is None:
            if not isinstance(env.action_space, gym.spaces.Discrete):
                raise ValueError("max_actions is required when the env's action space is not Discrete")
            max_actions = int(env.action_space.n)
        gym.utils.RecordConstructorArgs.__init__(
            self, max_actions=max_actions, text_features=text_features, task_features=task_features,
            action_features=action_features,
        )
        gym.Wrapper.__init__(self, env)
        self.max_actions = max_actions
        self.text_features = text_features
        self.task_features = task_features
        self.action_features = action_features
        size = text_features + task_features + max_actions * (action_features + SLOT_SCALARS)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32)
        self._task = ""
        self._task_vector = np.zeros(task_features, dtype=np.float32)
        self._task_words: frozenset[str] = frozenset()
        self._action_cache: dict[str, tuple[np.ndarray, list[str]]] = {}

    def encode(self, observation: str, candidates: Sequence[str]) -> np.ndarray:
        """The vector for ``observation`` and the candidate commands under the current task."""
        slot = self.action_features + SLOT_SCALARS
        vector = np.zeros(self.observation_space.shape, dtype=np.float32)
        vector[: self.text_features] = hashed_features(observation, self.text_features)
        start = self.text_features + self.task_features
        vector[self.text_features : start] = self._task_vector
        observed = frozenset(words(observation))
        for index, command in enumerate(candidates[: self.max_actions]):
            command_vector, command_words = self._command(command)
            offset = start + index * slot
            vector[offset : offset + self.action_features] = command_vector
            if command_words:
                vector[offset + self.action_features] = (sum(w in self._task_words for w in command_words)
                                                         / len(command_words))
                vector[offset + self.action_features + 1] = (sum(w in observed for w in command_words)
                                                             / len(command_words))
            vector[offset + self.action_features + 2] = 1.0
        return vector

    def _command(self, command: str) -> tuple[np.ndarray, list[str]]:
        cached = self._action_cache.get(command)
        if cached is None:
            if len(self._action_cache) >= _CACHE_LIMIT:
                self._action_cache.clear()
            cached = self._action_cache[command] = (hashed_features(command, self.action_features), words(command))
        return cached

    def _observe(self, text: str, info: dict[str, Any]) -> np.ndarray:
        task = str(info.get("task", ""))
        if task != self._task:
            self._task = task
            self._task_vector = hashed_features(task, self.task_features)
            self._task_words = frozenset(words(task))
        candidates = info.get("candidate_actions", info.get("admissible_actions", ()))
        info["text_observation"] = text
        return self.encode(text, candidates)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        text, info = self.env.reset(seed=seed, options=options)
        return self._observe(text, info), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        text, reward, terminated, truncated, info = self.env.step(action)
        return self._observe(text, info), reward, terminated, truncated, info
