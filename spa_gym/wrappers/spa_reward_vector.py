"""SPARewardVectorWrapper: SPA's dense rewards for a vector env, the estimator batched across sub-envs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from ..envs.base import check_action
from ..progress.batch_scorer import BatchScorer
from ..progress.estimator import ProgressEstimator
from ..progress.spa_reward import SPAReward


class SPARewardVectorWrapper(gym.vector.VectorWrapper):
    """The vector form of :class:`~spa_gym.wrappers.SPARewardWrapper`.

    Every step scores all sub-envs' actions in one estimator forward pass over their new tokens
    (:class:`~spa_gym.progress.batch_scorer.BatchScorer`), so its cost grows with the number of
    sub-envs far slower than one wrapper per sub-env. Rewards are ``reward``'s
    (:class:`~spa_gym.progress.spa_reward.SPAReward`); ``infos`` gains ``sparse_reward``,
    ``progress`` and ``grounding`` arrays. The vector env must use Gymnasium's default
    next-step autoreset: the step that resets a sub-env gets reward 0 and starts its new episode.

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> from spa_gym.progress import ProgressEstimator
        >>> from spa_gym.training import tiny_model_path
        >>> envs = gym.make_vec("SPA-ALFWorld-v0", num_envs=2, vectorization_mode="sync")
        >>> envs = SPARewardVectorWrapper(envs, ProgressEstimator.from_backbone(tiny_model_path()))
        >>> _ = envs.reset(seed=0)
        >>> obs, rewards, terminated, truncated, infos = envs.step(["look", "dance"])
        >>> rewards.tolist(), infos["grounding"].tolist()
        ([0.5, 0.0], [1.0, 0.0])
    """

    def __init__(self, env: gym.vector.VectorEnv, estimator: ProgressEstimator, reward: SPAReward = SPAReward()):
        super().__init__(env)
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"SPARewardVectorWrapper needs next-step autoreset, the vector env uses {mode}")
        self.estimator = estimator
        self.reward_settings = reward
        self.scorer = BatchScorer(estimator, env.num_envs)
        self._resetting = np.zeros(env.num_envs, dtype=bool)

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        obs, infos = self.env.reset(seed=seed, options=options)
        mask = (options or {}).get("reset_mask", np.ones(self.num_envs, dtype=bool))
        self.estimator.eval()
        for row in np.flatnonzero(mask):
            self.scorer.start(int(row), infos["task"][row], obs[row])
            self._resetting[row] = False
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        live = {row: check_action(actions[row]) for row in range(self.num_envs) if not self._resetting[row]}
        progress = self.scorer.score_actions(live)
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        sparse = np.asarray(rewards, dtype=np.float64)
        contributions = np.zeros(self.num_envs)
        grounding = np.zeros(self.num_envs)
        dense = np.zeros(self.num_envs)
        for row in range(self.num_envs):
            if self._resetting[row]:  # this step reset the sub-env: a new episode starts
                self.scorer.start(row, infos["task"][row], obs[row])
                continue
            contributions[row] = progress[row]
            grounding[row] = float(bool(infos["grounded"][row]))
            dense[row] = self.reward_settings(contributions[row], bool(grounding[row]), sparse[row])
            self.scorer.observe(row, obs[row])
        live_mask = ~self._resetting
        infos = {**infos, "sparse_reward": sparse, "_sparse_reward": np.ones(self.num_envs, dtype=bool),
                 "progress": contributions, "_progress": live_mask, "grounding": grounding, "_grounding": live_mask}
        self._resetting = np.logical_or(terminated, truncated)
        return obs, dense, terminated, truncated, infos
