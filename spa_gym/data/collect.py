"""Play episodes with a policy and record them as trajectories.

One loop, :func:`play_episode`, plays an episode of a spa-gym env with any policy (see
:mod:`.policies`) and returns it as a :class:`Trajectory`. On top of it:

- :func:`collect_trajectories`: ``episodes`` episodes with reset seeds ``seed, seed + 1, ...``
  (tasks drawn by the env's RNG), e.g. the noisy expert's mix of won and lost episodes for
  training the progress estimator.
- :func:`expert_episode` / :func:`collect_expert_trajectories`: the expert on given tasks, the SFT
  demonstrations of the SPA pipeline.

Both write JSONL (one flushed line per episode) when given a ``path``.

Example:
    >>> import gymnasium as gym, spa_gym
    >>> env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
    >>> [walk] = collect_expert_trajectories(env, task_indices=[0])
    >>> walk.won, walk.final_reward
    (True, 1.0)
    >>> walks = collect_trajectories(env, make_policy("random", env), episodes=2, seed=0)
    >>> [len(walk.steps) for walk in walks]
    [40, 40]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import gymnasium as gym
from tqdm import tqdm

from .policies import ExpertPolicy, Policy, make_policy
from .trajectories import Trajectory, TrajectoryWriter

__all__ = [
    "collect_expert_trajectories",
    "collect_trajectories",
    "expert_episode",
    "iter_expert_trajectories",
    "iter_trajectories",
    "make_policy",
    "play_episode",
]


def play_episode(
    env: gym.Env, policy: Policy, seed: int | None = None, options: dict[str, Any] | None = None
) -> Trajectory:
    """Play one episode of ``env`` with ``policy`` and return it as a :class:`Trajectory`.

    Calls ``policy.reset(seed)``, then ``env.reset(seed=seed, options=options)``, then steps until
    the episode terminates or truncates, or the policy returns ``None`` (it gives up; the episode
    is recorded as it stands).
    """
    policy.reset(seed)
    obs, info = env.reset(seed=seed, options=options)
    walk = Trajectory(env.spec.id if env.spec else type(env.unwrapped).__name__, info["task_id"], info["task"], obs)
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy(obs, info)
        if action is None:
            break
        state_key = info.get("state_key")
        obs, reward, terminated, truncated, info = env.step(action)
        walk.add_step(action, obs, reward, info["grounded"], state_key=state_key)
    walk.won = bool(info["won"])
    return walk


def _write_all(walks: Iterable[Trajectory], path: str | os.PathLike[str] | None) -> list[Trajectory]:
    """Collect ``walks`` into a list, appending each to ``path`` (JSONL) as it comes, if given."""
    collected = []
    writer = TrajectoryWriter(path) if path is not None else None
    try:
        for walk in walks:
            collected.append(walk)
            if writer is not None:
                writer.write(walk)
    finally:
        if writer is not None:
            writer.close()
    return collected


def iter_trajectories(
    env: gym.Env, policy: Policy, episodes: int, seed: int = 0, progress: bool = False, rollouts_per_task: int = 1
) -> Iterator[Trajectory]:
    """``episodes`` episodes of ``policy``, with reset seeds ``seed, seed + 1, ...``, one at a time.

    With ``rollouts_per_task = M``, each task drawn is played M times in a row (as SPA-RL's
    exploration does), the later rollouts reset with ``options={"task_id": ...}``.
    """
    if rollouts_per_task < 1:
        raise ValueError(f"rollouts_per_task must be >= 1, got {rollouts_per_task}")
    task_id = None
    for offset in tqdm(range(episodes), desc="episodes", disable=not progress):
        options = {"task_id": task_id} if offset % rollouts_per_task else None
        walk = play_episode(env, policy, seed=seed + offset, options=options)
        task_id = walk.task_id
        yield walk


def collect_trajectories(
    env: gym.Env,
    policy: Policy,
    episodes: int,
    path: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: bool = False,
    rollouts_per_task: int = 1,
) -> list[Trajectory]:
    """Play ``episodes`` episodes with ``policy``; also append them to ``path`` (JSONL) if given.

    Episode ``i`` resets the env and the policy with seed ``seed + i``, so the task (drawn by the
    env's RNG) and the policy's random choices depend only on the seeds: the same call gives the
    same trajectories. ``rollouts_per_task`` plays each drawn task that many times in a row.
    ``progress=True`` shows a tqdm progress bar.
    """
    if episodes < 0:
        raise ValueError(f"episodes must be >= 0, got {episodes}")
    return _write_all(iter_trajectories(env, policy, episodes, seed, progress, rollouts_per_task), path)


def expert_episode(env: gym.Env, options: dict | None = None, seed: int | None = None) -> Trajectory:
    """Play one episode with the env's expert and return it as a :class:`Trajectory`.

    The episode ends where the expert has no next command (won, or stuck). Raises ``TypeError``
    for an env without ``expert_action()``.
    """
    return play_episode(env, ExpertPolicy(env, stop_when_stuck=True), seed=seed, options=options)


def iter_expert_trajectories(env: gym.Env, task_indices: Iterable[int], progress: bool = False) -> Iterator[Trajectory]:
    """Expert episodes of the given task indices, one at a time."""
    expert = ExpertPolicy(env, stop_when_stuck=True)
    indices = list(task_indices)
    for index in tqdm(indices, desc="expert episodes", disable=not progress):
        yield play_episode(env, expert, options={"task_index": index})


def collect_expert_trajectories(
    env: gym.Env,
    task_indices: Iterable[int],
    path: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> list[Trajectory]:
    """Expert episodes of the given task indices; also appended to ``path`` (JSONL) if given."""
    return _write_all(iter_expert_trajectories(env, task_indices, progress), path)
