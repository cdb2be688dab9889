"""Record expert episodes of any env that has an expert (``env.unwrapped.expert_action()``).

These are the SFT demonstrations of the SPA pipeline.

Example:
    >>> import gymnasium as gym, spa_gym
    >>> env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
    >>> [walk] = collect_expert_trajectories(env, task_indices=[0])
    >>> walk.won, walk.final_reward
    (True, 1.0)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import gymnasium as gym
from tqdm import tqdm

from .trajectories import Trajectory, TrajectoryWriter


def expert_episode(env: gym.Env, options: dict | None = None, seed: int | None = None) -> Trajectory:
    """Play one episode with the env's expert and return it as a :class:`Trajectory`."""
    expert = getattr(env.unwrapped, "expert_action", None)
    if expert is None:
        raise TypeError(f"{env.unwrapped.__class__.__name__} has no expert_action()")
    obs, info = env.reset(seed=seed, options=options)
    walk = Trajectory(env.spec.id if env.spec else type(env.unwrapped).__name__, info["task_id"], info["task"], obs)
    terminated = truncated = False
    while not (terminated or truncated):
        action = expert()
        if action is None:
            break
        obs, reward, terminated, truncated, info = env.step(action)
        walk.add_step(action, obs, reward, info["grounded"])
    walk.won = bool(info["won"])
    return walk


def iter_expert_trajectories(env: gym.Env, task_indices: Iterable[int], progress: bool = False) -> Iterator[Trajectory]:
    """Expert episodes of the given task indices, one at a time."""
    indices = list(task_indices)
    for index in tqdm(indices, desc="expert episodes", disable=not progress):
        yield expert_episode(env, options={"task_index": index})


def collect_expert_trajectories(
    env: gym.Env,
    task_indices: Iterable[int],
    path: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> list[Trajectory]:
    """Expert episodes of the given task indices; also appended to ``path`` (JSONL) if given."""
    walks = []
    writer = TrajectoryWriter(path) if path is not None else None
    try:
        for walk in iter_expert_trajectories(env, task_indices, progress):
            walks.append(walk)
            if writer is not None:
                writer.write(walk)
    finally:
        if writer is not None:
            writer.close()
    return walks
