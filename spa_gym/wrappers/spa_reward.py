"""SPARewardWrapper: dense per-step rewards from a progress estimator, for any agent or trainer."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from ..progress.batch_scorer import EpisodeScorer
from ..progress.estimator import ProgressEstimator
from ..progress.spa_reward import SPAReward

#: Above this share of unknown tokens in the first observation, the estimator cannot serve the env.
MAX_UNKNOWN_SHARE = 0.5


class SPARewardWrapper(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """Replace the sparse reward with SPA's :class:`~spa_gym.progress.spa_reward.SPAReward`.

    ``c_t`` is the estimator's progress contribution of the action, ``g_t`` is 1 if the env
    grounded (executed) it, else 0; ``reward`` weighs them (default ``alpha`` 1, ``beta`` 0.5, the
    env's own reward kept). ``info`` gains ``sparse_reward``, ``progress`` and ``grounding``. The
    estimator's KV cache is kept through the episode, so a step costs only its new tokens.

    Example:
        >>> import gymnasium as gym, spa_gym
        >>> from spa_gym.progress import ProgressEstimator
        >>> from spa_gym.training import tiny_model_path
        >>> from spa_gym.progress.spa_reward import SPAReward
        >>> estimator = ProgressEstimator.from_backbone(tiny_model_path())
        >>> env = SPARewardWrapper(gym.make("SPA-ALFWorld-v0"), estimator, SPAReward(alpha=1.0, beta=0.5))
        >>> _ = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step("look")
        >>> reward == info["progress"] + 0.5 * info["grounding"] + info["sparse_reward"]
        True
    """

    def __init__(self, env: gym.Env[str, str], estimator: ProgressEstimator, reward: SPAReward = SPAReward()):
        gym.utils.RecordConstructorArgs.__init__(  # no deep copy of the estimator's weights
            self, estimator=estimator, reward=reward, _disable_deepcopy=True,
        )
        gym.Wrapper.__init__(self, env)
        self.estimator = estimator
        self.reward_settings = reward
        self._scorer: EpisodeScorer | None = None
        self._checked = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        if "task" not in info:
            raise TypeError("SPARewardWrapper needs a spa-gym text env: info has no 'task'")
        if not self._checked:
            self._check_vocabulary(obs)
            self._checked = True
        self.estimator.eval()
        self._scorer = EpisodeScorer(self.estimator, info["task"], obs)
        return obs, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._scorer is None:
            raise RuntimeError("call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step(action)  # a non-str action raises here
        progress = self._scorer.score_action(action)
        grounding = float(bool(info.get("grounded", False)))
        dense = self.reward_settings(progress, bool(grounding), float(reward))
        info["sparse_reward"] = float(reward)
        info["progress"] = progress
        info["grounding"] = grounding
        self._scorer.observe(obs)
        return obs, dense, terminated, truncated, info

    def _check_vocabulary(self, observation: str) -> None:
        tokenizer = self.estimator.tokenizer
        unk = tokenizer.unk_token_id
        if unk is None:
            return
        ids = tokenizer(observation, add_special_tokens=False)["input_ids"]
        share = sum(i == unk for i in ids) / max(len(ids), 1)
        if share > MAX_UNKNOWN_SHARE:
            env_id = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
            raise ValueError(
                f"this estimator's tokenizer does not know {env_id}'s vocabulary ({share:.0%} of the first "
                f"observation's tokens are unknown): train an estimator on a backbone built for this env"
            )
