"""A wrapper that records every episode as a :class:`~spa_gym.data.trajectories.Trajectory`."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym

from ..data.trajectories import Trajectory, TrajectoryWriter


class RecordTrajectories(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """Record each episode of a spa-gym text env; append finished episodes to a JSONL file.

    An episode is finished when it terminates or truncates, or when ``reset`` or ``close`` cuts
    it short (then it is written with what it has). Finished episodes are also kept in
    :attr:`trajectories` unless ``keep_in_memory=False``.

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> env = RecordTrajectories(gym.make("SPA-ALFWorld-v0", max_episode_steps=2))
        >>> _ = env.reset(seed=0)
        >>> _ = env.step("look"); _ = env.step("inventory")
        >>> [step.action for step in env.trajectories[0].steps]
        ['look', 'inventory']
    """

    def __init__(self, env: gym.Env[str, str], path: str | os.PathLike[str] | None = None,
                 keep_in_memory: bool = True):
        gym.utils.RecordConstructorArgs.__init__(self, path=path, keep_in_memory=keep_in_memory)
        gym.Wrapper.__init__(self, env)
        self.path = path
        self.keep_in_memory = keep_in_memory
        self.trajectories: list[Trajectory] = []
        self._writer = TrajectoryWriter(path) if path is not None else None
        self._current: Trajectory | None = None
        self._state_key: str | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self._finish()
        obs, info = self.env.reset(seed=seed, options=options)
        env_id = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
        self._current = Trajectory(env_id, info["task_id"], info["task"], obs)
        self._state_key = info.get("state_key")
        return obs, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._current is not None:
            self._current.add_step(action, obs, float(reward), bool(info.get("grounded", True)),
                                   state_key=self._state_key)
            self._state_key = info.get("state_key")
            self._current.won = bool(info.get("won", False))
            if terminated or truncated:
                self._finish()
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        self._finish()
        if self._writer is not None:
            self._writer.close()
        super().close()

    def _finish(self) -> None:
        if self._current is None or not self._current.steps:
            self._current = None
            return
        if self._writer is not None:
            self._writer.write(self._current)
        if self.keep_in_memory:
            self.trajectories.append(self._current)
        self._current = None
