"""How the estimator reads a trajectory: one token sequence, and where each action ends in it.

A trajectory is rendered once, as consecutive segments tokenised one by one (so a step's tokens
never depend on what follows, which is what lets the wrapper extend a KV cache step by step):

    [bos] <|task|> {task} <|observation|> {first observation} <|end|>
          <|action|> {action 1} <|observation|>  {observation 1} <|end|>
          <|action|> {action 2} <|observation|>  ...

The estimator reads its head at the last token of each action segment, the ``<|observation|>``
marker that closes the action: c_t sees the task and the history up to and including action t,
but not what the environment answered. For a backbone trained as a language model on such
transcripts, that token is where it anticipates the answer ("Nothing happens." or progress),
which made attribution markedly better in ``benchmarks/attribution.py`` than reading at an
end marker whose next token is uninformative (also when the value is read after the env's answer).
An estimator with a task prior also reads c_0 at the opening's last token (``opening_end``).

Example:
    >>> from spa_gym.data.trajectories import Trajectory
    >>> class Words:  # any tokenizer with __call__(text, add_special_tokens=False) works
    ...     bos_token_id = None
    ...     def __call__(self, text, add_special_tokens=False):
    ...         return {"input_ids": [len(w) for w in text.split()]}
    >>> walk = Trajectory("env", "t0", "find a mug", "You see a mug.")
    >>> walk.add_step("take mug", "Done.", 1.0, True)
    >>> encoded = TranscriptEncoder(Words()).encode(walk)
    >>> encoded.action_ends, encoded.input_ids[encoded.action_ends[0]]
    ([13], 15)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..data.trajectories import Trajectory

TASK, ACTION, OBSERVATION, END = "<|task|>", "<|action|>", "<|observation|>", "<|end|>"


@dataclass
class EncodedTrajectory:
    """Token ids of a whole trajectory, where each action segment starts and ends, and the outcome."""

    input_ids: list[int]
    action_ends: list[int]  # index of the last token of each action segment
    reward: float
    action_starts: list[int] = field(default_factory=list)  # index of the first token of each action segment
    opening_end: int = 0  # index of the last token of the opening segment (where a task prior is read)


class TranscriptEncoder:
    """Turns trajectories (or an episode as it unfolds) into token ids with the segment layout above."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt(self, task: str, observation: str) -> list[int]:
        """The opening segment (with the tokenizer's BOS token, if it has one)."""
        bos = self.tokenizer.bos_token_id
        head = [bos] if bos is not None else []
        return head + self._ids(f"{TASK} {task} {OBSERVATION} {observation} {END}")

    def action(self, action: str) -> list[int]:
        """An action segment, closed by the observation marker; its last token is where c_t is read."""
        return self._ids(f" {ACTION} {action} {OBSERVATION}")

    def observation(self, observation: str) -> list[int]:
        """An observation segment (its marker closed the action before it)."""
        return self._ids(f" {observation} {END}")

    def encode(self, trajectory: Trajectory) -> EncodedTrajectory:
        """The whole trajectory as one sequence (the last observation is left out: no action reads it)."""
        ids = self.prompt(trajectory.task, trajectory.initial_observation)
        opening_end = len(ids) - 1
        starts, ends = [], []
        for number, step in enumerate(trajectory.steps):
            starts.append(len(ids))
            ids += self.action(step.action)
            ends.append(len(ids) - 1)
            if number + 1 < len(trajectory.steps):
                ids += self.observation(step.observation)
        return EncodedTrajectory(ids, ends, trajectory.final_reward, starts, opening_end)


def pad_batch(batch: Sequence[EncodedTrajectory], pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``input_ids`` and ``attention_mask`` tensors for a batch of encoded trajectories."""
    length = max(len(e.input_ids) for e in batch)
    input_ids = torch.full((len(batch), length), pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(batch), length), dtype=torch.long)
    for row, encoded in enumerate(batch):
        input_ids[row, : len(encoded.input_ids)] = torch.tensor(encoded.input_ids)
        attention[row, : len(encoded.input_ids)] = 1
    return input_ids, attention
