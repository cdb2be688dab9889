"""TaskSubset: draw every episode from a fixed list of tasks.

Trainers that call ``reset()`` without options (stable-baselines3, most Gymnasium loops) get a
random task of the whole split. This wrapper restricts them to the tasks you name, for a small
suite, a curriculum or a debugging run. Explicit reset options still win.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np


class TaskSubset(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Reset to one of ``tasks`` (task indices or task ids of the env), drawn uniformly.

    The draw uses the wrapper's own generator, seeded by ``reset(seed=...)``, so a seeded run
    replays the same task sequence. With ``seed`` the generator is seeded once, here, and reset
    seeds leave it alone: copies built with the same ``seed`` (one per vector-env slot) play the
    same task sequence, so their k-th episodes form a group of one task (GRPO, GiGPO).

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> env = TaskSubset(gym.make("SPA-ALFWorld-v0", split="valid_seen"), ["valid_seen-0003", "valid_seen-0007"])
        >>> _, info = env.reset(seed=0)
        >>> info["task_id"] in ("valid_seen-0003", "valid_seen-0007")
        True
        >>> env.reset(options={"task_index": 1})[1]["task_id"]
        'valid_seen-0001'
    """

    def __init__(self, env: gym.Env, tasks: Sequence[int | str], seed: int | None = None):
        if not tasks:
            raise ValueError("tasks must name at least one task index or task id")
        gym.utils.RecordConstructorArgs.__init__(self, tasks=list(tasks), seed=seed)
        gym.Wrapper.__init__(self, env)
        self.tasks = list(tasks)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None and self.seed is None:
            self._rng = np.random.default_rng(seed)
        if not options:
            task = self.tasks[int(self._rng.integers(len(self.tasks)))]
            options = {"task_id": task} if isinstance(task, str) else {"task_index": int(task)}
        return self.env.reset(seed=seed, options=options)
