"""Any :mod:`spa_gym.credit` method as the advantages of sb3-contrib's ``MaskablePPO``.

Reward-shaped methods need nothing new: ``sparse`` is MaskablePPO as it is (its critic is a
turn-level critic: one env step is one turn) and ``spa`` is :func:`~.sb3.make_sb3_env` with an
estimator. Critic-free methods (``grpo``, ``rloo``, ``gigpo``, ``mc-prm``) replace the advantages
of each rollout buffer:

1. :class:`EpisodeRecorder` (a vector-env wrapper over in-process envs) rebuilds each finished
   episode as a :class:`~spa_gym.data.trajectories.Trajectory` with its state keys, and remembers
   which buffer row holds each of its steps (and, for ``mc-prm``, a saved state before each step).
2. :class:`CreditRolloutBuffer` computes the credit of the episodes that finished in the rollout
   and writes it as the advantage of their steps in the buffer. Steps of episodes still running
   when the rollout ends get advantage 0 (no outcome yet); the value loss is off (``vf_coef=0``).
3. ``mc-prm``'s state values come from rollouts of the current policy from the saved states in a
   separate copy of the env; their env steps and policy calls are counted in the recorder's
   ``extra_env_steps`` and ``extra_policy_calls``.

Groups: :func:`make_credit_ppo` builds its env copies with :class:`~spa_gym.wrappers.TaskSubset`
seeded alike, so all copies play the same task sequence and the episodes of a task in a rollout
form its group.

Example:
    >>> model = make_credit_ppo("grpo", "SPA-ALFWorld-v0", tasks=[4, 5], n_envs=2, max_episode_steps=6,
    ...                         n_steps=16, batch_size=32, seed=0)
    >>> model = model.learn(32)
    >>> model.rollout_buffer.recorder.finished_episodes > 0
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.buffers import MaskableRolloutBuffer
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from ..credit import ADVANTAGE_METHODS, CreditMethod, MonteCarloValues, get_credit_method
from ..data.trajectories import Trajectory
from ..envs.base import EnvState
from .hashed_text_observation import HashedTextObservation
from .sb3 import make_sb3_env


@dataclass
class _Running:
    """An episode being recorded: its env, its trajectory, the buffer row of each step (None: an
    earlier rollout's buffer), and the state saved before each step (mc-prm only)."""

    env_index: int
    trajectory: Trajectory
    rows: list[int | None] = field(default_factory=list)
    states: list[EnvState] = field(default_factory=list)


class EpisodeRecorder(VecEnvWrapper):
    """Records the episodes of a ``DummyVecEnv`` of spa-gym envs for credit methods.

    ``keep_states``: save ``clone_state()`` before every step (what ``mc-prm`` restores).
    """

    def __init__(self, venv: DummyVecEnv, keep_states: bool = False):
        if not isinstance(venv, DummyVecEnv):
            raise TypeError("EpisodeRecorder reads the envs in process: it needs a DummyVecEnv, "
                            f"got {type(venv).__name__}")
        super().__init__(venv)
        self.keep_states = keep_states
        self.row = 0
        self.finished: list[_Running] = []
        self.finished_episodes = 0
        self.extra_env_steps = 0
        self.extra_policy_calls = 0
        self._running: list[_Running | None] = [None] * venv.num_envs
        self._keys: list[str] = [""] * venv.num_envs

    def start_rollout(self) -> None:
        """A new buffer begins: rows count from 0; running episodes' earlier steps are in the old
        buffer; episodes finished before are forgotten."""
        self.row = 0
        self.finished = []
        for running in self._running:
            if running is not None:
                running.rows = [None] * len(running.rows)

    def reset(self) -> Any:
        observations = self.venv.reset()
        self._running = [None] * self.num_envs
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        for index, env in enumerate(self.venv.envs):
            base = env.unwrapped
            if self._running[index] is None:
                env_id = env.spec.id if env.spec else type(base).__name__
                walk = Trajectory(env_id, base.task_id, base.task, base.last_observation)
                self._running[index] = _Running(index, walk)
            running = self._running[index]
            running.rows.append(self.row)
            if self.keep_states:
                running.states.append(base.clone_state())
            self._keys[index] = base.state_key()
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        for index, (reward, done, info) in enumerate(zip(rewards, dones, infos)):
            running = self._running[index]
            # after the last step the env has already been reset: its observation is the next episode's
            text = "" if done else self.venv.envs[index].unwrapped.last_observation
            running.trajectory.add_step(info.get("action_text", ""), text, float(reward),
                                        bool(info.get("grounded", True)), state_key=self._keys[index])
            if done:
                running.trajectory.won = bool(info.get("won", False))
                self.finished.append(running)
                self.finished_episodes += 1
                self._running[index] = None
        self.row += 1
        return observations, rewards, dones, infos


class CreditRolloutBuffer(MaskableRolloutBuffer):
    """MaskablePPO's buffer whose advantages come from a critic-free credit method."""

    def __init__(self, *args: Any, recorder: EpisodeRecorder, credit: CreditMethod | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.recorder, self.credit = recorder, credit

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "recorder"):  # the parent's constructor resets before the recorder is set
            self.recorder.start_rollout()

    def compute_returns_and_advantage(self, last_values: Any, dones: np.ndarray) -> None:
        super().compute_returns_and_advantage(last_values, dones)  # fills returns; advantages replaced below
        self.advantages[:] = 0.0
        finished = self.recorder.finished
        if finished:
            if self.credit is None:
                raise RuntimeError("CreditRolloutBuffer has no credit method; set buffer.credit before learning")
            credits = self.credit([episode.trajectory for episode in finished])
            for episode, values in zip(finished, credits):
                for row, value in zip(episode.rows, values):
                    if row is not None:
                        self.advantages[row, episode.env_index] = value
        self.returns = self.advantages + self.values


def policy_act(model: MaskablePPO, encoder: HashedTextObservation, max_actions: int) -> Callable[[str, dict], str]:
    """The model's sampled command for a text observation (what ``mc-prm`` rolls out)."""

    def act(observation: str, info: dict[str, Any]) -> str:
        candidates = list(info["admissible_actions"])[:max_actions]
        mask = np.zeros(max_actions, dtype=bool)
        mask[: max(len(candidates), 1)] = True
        index, _ = model.predict(encoder.encode(observation, candidates), action_masks=mask, deterministic=False)
        return candidates[int(index)] if int(index) < len(candidates) else ""

    return act


def monte_carlo_values(recorder: EpisodeRecorder, values: MonteCarloValues,
                       max_episode_steps: int) -> Callable[[Sequence[Trajectory]], list[list[float]]]:
    """``V`` of the state before each step of the recorder's finished episodes (in that order);
    the rollouts' env steps and policy calls are added to the recorder's counts."""

    def state_values(trajectories: Sequence[Trajectory]) -> list[list[float]]:
        steps, calls = values.env_steps, values.policy_calls
        out = [[values(state, max_episode_steps - t) for t, state in enumerate(episode.states)]
               for episode in recorder.finished]
        recorder.extra_env_steps += values.env_steps - steps
        recorder.extra_policy_calls += values.policy_calls - calls
        return out

    return state_values


def make_credit_ppo(method: str, env_id: str, *, tasks: Sequence[int | str], n_envs: int = 4,
                    max_episode_steps: int = 20, max_actions: int = 64, task_seed: int = 0,
                    credit_kwargs: dict[str, Any] | None = None, mc_rollouts: int = 2,
                    **ppo_kwargs: Any) -> MaskablePPO:
    """A MaskablePPO on ``n_envs`` copies of ``env_id`` (same task sequence) with ``method``'s
    credit (``grpo``, ``rloo``, ``gigpo`` or ``mc-prm``) as its advantages.

    The returned model's ``rollout_buffer.recorder`` counts finished episodes and ``mc-prm``'s
    extra env steps and policy calls.
    """
    if method not in ADVANTAGE_METHODS:
        raise ValueError(f"{method!r} is not one of the critic-free methods {ADVANTAGE_METHODS}; reward methods "
                         "train with MaskablePPO on make_sb3_env")
    thunk = make_sb3_env(env_id, tasks=tasks, max_episode_steps=max_episode_steps, max_actions=max_actions,
                         task_seed=task_seed)
    recorder = EpisodeRecorder(DummyVecEnv([thunk] * n_envs), keep_states=method == "mc-prm")
    model = MaskablePPO("MlpPolicy", recorder, vf_coef=0.0, rollout_buffer_class=CreditRolloutBuffer,
                        rollout_buffer_kwargs={"recorder": recorder, "credit": None}, **ppo_kwargs)
    kwargs = dict(credit_kwargs or {})
    if method == "mc-prm":
        scratch = thunk()
        values = MonteCarloValues(scratch, policy_act(model, scratch, max_actions), rollouts=mc_rollouts)
        kwargs.update(values=monte_carlo_values(recorder, values, max_episode_steps), rollouts=mc_rollouts)
    model.rollout_buffer.credit = get_credit_method(method, **kwargs)
    return model


__all__ = ["CreditRolloutBuffer", "EpisodeRecorder", "make_credit_ppo", "policy_act"]
