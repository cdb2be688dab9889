"""An episode's token layout with per-turn rewards, for trainers that train on token ids.

A multi-turn episode trains as one sequence: the prompt (system instruction, example, the task's
initial observation, the first generation prompt), then per turn the ids the model generated and
the chat template's tokens around the env's answer. :class:`EpisodeTokens` holds those ids as they
were generated (nothing is re-tokenised), the span of each turn's generated ids, which tokens the
model wrote (the loss mask) and each turn's rewards: the env's, and SPA's when
:func:`add_spa_rewards` scored the episode with a progress estimator. Each adapter takes the form
its trainer wants:

- a mask of model tokens (``model_mask``; TRL's ``env_mask``),
- turn spans and one reward per turn (``turn_spans`` with ``env_rewards`` / ``spa_rewards`` /
  ``spa_shaping``), or the turn index of every token (:meth:`EpisodeTokens.turn_of_token`),
- per-token rewards, each turn's reward on its last generated token (:meth:`EpisodeTokens.token_rewards`),
  the form of token-level PPO / GAE.

:func:`group_turn_advantages` turns per-turn rewards into group-normalised per-turn advantages
(GRPO-style groups of episodes on one task).

Example:
    >>> episode = EpisodeTokens(
    ...     prompt_ids=[1, 2], completion_ids=[10, 11, 7, 20, 21, 12, 7], turn_spans=[(0, 3), (5, 7)],
    ...     texts=["look", "go"], actions=["look", "go"], observations=["You see a desk.", "Nothing happens."],
    ...     env_rewards=[0.0, 0.0], grounded=[True, False], task="find a pen", task_id="t-0",
    ...     initial_observation="You are in a room.")
    >>> episode.model_mask
    [1, 1, 1, 0, 0, 1, 1]
    >>> episode.turn_of_token()
    [0, 0, 0, -1, -1, 1, 1]
    >>> episode.token_rewards([0.5, -1.0])
    [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, -1.0]
    >>> [[round(a, 2) for a in turns] for turns in group_turn_advantages([[1.0, 0.0], [1.0]], group_size=2)]
    [[0.58, -1.15], [0.58]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..data.trajectories import Trajectory
from ..progress.spa_reward import SPAReward

if TYPE_CHECKING:
    from ..progress.estimator import ProgressEstimator


@dataclass
class EpisodeTokens:
    """One episode as token ids: prompt, completion, each turn's generated span and its rewards.

    ``completion_ids`` holds, per turn, the ids the model generated (verbatim) and, between turns,
    the template's tokens for the env's answer (and a turn's closing token when generation was cut
    at the token limit); it ends with the last turn. ``turn_spans[t] = (start, end)`` indexes
    ``completion_ids`` (end excluded) and covers exactly the ids generated in turn ``t``.
    Per-turn lists (``texts`` ... ``grounded``, and the SPA ones) have one entry per turn.
    """

    prompt_ids: list[int]
    completion_ids: list[int]
    turn_spans: list[tuple[int, int]]
    texts: list[str]  # the model's text of each turn (its span decoded)
    actions: list[str]  # the command parsed from it and sent to the env
    observations: list[str]  # the env's answer to each action
    env_rewards: list[float]  # the benchmark's reward of each step (sparse: the outcome at the end)
    grounded: list[bool]
    task: str
    task_id: str
    initial_observation: str
    terminated: bool = False
    truncated: bool = False
    won: bool = False
    progress: list[float] | None = None  # c_t, the estimator's contribution of each action
    spa_rewards: list[float] | None = None  # SPAReward(c_t, g_t, env reward): SPARewardWrapper's reward
    spa_shaping: list[float] | None = None  # SPAReward(c_t, g_t, 0): alpha * c_t + beta * g_t

    @property
    def num_turns(self) -> int:
        return len(self.turn_spans)

    @property
    def outcome(self) -> float:
        """The env's return: the sum of its step rewards (on these benchmarks, the final reward)."""
        return float(sum(self.env_rewards))

    @property
    def model_mask(self) -> list[int]:
        """1 where the model generated the completion token, 0 on the env's and the template's tokens."""
        mask = [0] * len(self.completion_ids)
        for start, end in self.turn_spans:
            mask[start:end] = [1] * (end - start)
        return mask

    def turn_of_token(self) -> list[int]:
        """The turn index of each completion token; -1 where the model did not generate it."""
        index = [-1] * len(self.completion_ids)
        for turn, (start, end) in enumerate(self.turn_spans):
            index[start:end] = [turn] * (end - start)
        return index

    def token_rewards(self, turn_rewards: Sequence[float]) -> list[float]:
        """One value per completion token: turn ``t``'s reward on its last generated token, 0 elsewhere."""
        if len(turn_rewards) != self.num_turns:
            raise ValueError(f"{len(turn_rewards)} rewards for an episode of {self.num_turns} turns")
        rewards = [0.0] * len(self.completion_ids)
        for (_, end), reward in zip(self.turn_spans, turn_rewards):
            rewards[end - 1] += float(reward)
        return rewards

    @classmethod
    def from_conversation(cls, ids: Sequence[int], opening_length: int, action_spans: Sequence[tuple[int, int]],
                          trajectory: Trajectory, *, terminated: bool = False, truncated: bool = False,
                          texts: Sequence[str] | None = None) -> EpisodeTokens:
        """The layout of a conversation's ids (``opening_length`` prompt ids, absolute ``action_spans``)
        and the trajectory that was played with them (one step per span)."""
        if len(action_spans) != len(trajectory.steps):
            raise ValueError(f"{len(action_spans)} generated spans for {len(trajectory.steps)} steps")
        if action_spans and action_spans[0][0] < opening_length:
            raise ValueError("a generated span starts inside the prompt")
        steps = trajectory.steps
        return cls(
            prompt_ids=list(ids[:opening_length]),
            completion_ids=list(ids[opening_length:]),
            turn_spans=[(start - opening_length, end - opening_length) for start, end in action_spans],
            texts=list(texts) if texts is not None else [step.raw_output or step.action for step in steps],
            actions=[step.action for step in steps],
            observations=[step.observation for step in steps],
            env_rewards=[step.reward for step in steps],
            grounded=[step.grounded for step in steps],
            task=trajectory.task,
            task_id=trajectory.task_id,
            initial_observation=trajectory.initial_observation,
            terminated=terminated,
            truncated=truncated,
            won=trajectory.won,
        )


def add_spa_rewards(episodes: Sequence[EpisodeTokens], estimator: ProgressEstimator,
                    reward: SPAReward = SPAReward()) -> None:
    """Score every turn with the progress estimator and set ``progress``, ``spa_rewards`` and ``spa_shaping``.

    The estimator reads the episode's text exactly as :class:`~spa_gym.wrappers.SPARewardWrapper`
    does (task and initial observation, then per step the action and the env's answer), all
    episodes in one batch per step, so ``spa_rewards`` equals the wrapper's rewards on the same
    actions. The estimator has its own tokenizer; the policy's ids are not touched.
    """
    from ..progress.batch_scorer import BatchScorer

    if not episodes:
        return
    estimator.eval()
    scorer = BatchScorer(estimator, rows=len(episodes))
    for row, episode in enumerate(episodes):
        scorer.start(row, episode.task, episode.initial_observation)
        episode.progress = []
    for step in range(max(episode.num_turns for episode in episodes)):
        live = {row: episode.actions[step] for row, episode in enumerate(episodes) if step < episode.num_turns}
        for row, contribution in scorer.score_actions(live).items():
            episodes[row].progress.append(contribution)
            scorer.observe(row, episodes[row].observations[step])
    for episode in episodes:
        episode.spa_rewards = [reward(c, g, r) for c, g, r in zip(episode.progress, episode.grounded,
                                                                   episode.env_rewards)]
        episode.spa_shaping = [reward(c, g, 0.0) for c, g in zip(episode.progress, episode.grounded)]


def group_turn_advantages(turn_rewards: Sequence[Sequence[float]], group_size: int, scale: bool = True,
                          eps: float = 1e-4) -> list[list[float]]:
    """Per-turn advantages: each turn's reward minus the mean over all turns of its group, divided by
    their standard deviation (``scale``) plus ``eps``.

    Rows ``k * group_size`` to ``(k + 1) * group_size - 1`` form group ``k`` (episodes of one task, as
    GRPO samples them). A group whose turns all have the same reward gives zeros.
    """
    if group_size < 1 or len(turn_rewards) % group_size:
        raise ValueError(f"{len(turn_rewards)} episodes do not split into groups of {group_size}")
    advantages: list[list[float]] = []
    for first in range(0, len(turn_rewards), group_size):
        group = turn_rewards[first : first + group_size]
        pooled = [float(value) for rewards in group for value in rewards]
        mean = sum(pooled) / len(pooled) if pooled else 0.0
        spread = 1.0
        if scale:
            variance = sum((value - mean) ** 2 for value in pooled) / (len(pooled) - 1) if len(pooled) > 1 else 0.0
            spread = math.sqrt(variance) + eps
        advantages.extend([(float(value) - mean) / spread for value in rewards] for rewards in group)
    return advantages
