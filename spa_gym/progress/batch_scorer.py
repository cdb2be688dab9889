"""Incremental estimator scoring for many episodes at once: one forward pass per step for all of them.

Each row (a sub-env of a vector env) has its own episode. The rows share one KV cache; a step
appends each row's new tokens (its pending observation and its action), right-padded to the
longest, with an attention mask that hides padding and the rows' finished episodes, and explicit
position ids, so every row computes exactly what a one-pass score of its own episode computes.
When finished episodes and padding make the cache much longer than the live episodes, it is
rebuilt from the rows' token histories in one pass.

Example:
    >>> from spa_gym.progress import ProgressEstimator
    >>> from spa_gym.training import tiny_model_path
    >>> scorer = BatchScorer(ProgressEstimator.from_backbone(tiny_model_path()), rows=2)
    >>> scorer.start(0, "put a mug in sinkbasin", "You are in the middle of a room.")
    >>> scorer.start(1, "put a pen in desk", "You are in the middle of a room.")
    >>> scorer.score_actions({0: "look", 1: "go to desk 1"})
    {0: 0.0, 1: 0.0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from transformers import DynamicCache

from ..training.kv_cache import cache_kwargs, returned_cache

if TYPE_CHECKING:
    from .estimator import ProgressEstimator

#: Rebuild the shared cache once its length exceeds this multiple of the longest live episode.
REBUILD_FACTOR = 2


class BatchScorer:
    """Progress contributions c_t for ``rows`` concurrent episodes, KV-cached and batched."""

    def __init__(self, estimator: ProgressEstimator, rows: int):
        self.estimator = estimator
        self.rows = rows
        self.history: list[list[int]] = [[] for _ in range(rows)]  # token ids of each row's live episode
        self.pending: list[list[int]] = [[] for _ in range(rows)]  # ids not yet in the cache
        self.cache: DynamicCache | None = None
        self.valid = torch.zeros((rows, 0), dtype=torch.long)  # which cache positions each row may attend to

    def start(self, row: int, task: str, observation: str) -> None:
        """Begin a new episode in ``row`` (the previous one, if any, is hidden from it)."""
        self.valid[row] = 0
        self.history[row] = []
        self.pending[row] = self.estimator.encoder.prompt(task, observation)

    def observe(self, row: int, observation: str) -> None:
        """Add the env's answer to ``row``'s last action."""
        self.pending[row] += self.estimator.encoder.observation(observation)

    @torch.no_grad()
    def score_actions(self, actions: dict[int, str]) -> dict[int, float]:
        """c_t of the given rows' next actions, in one forward pass."""
        if not actions:
            return {}
        encoder = self.estimator.encoder
        new = {row: self.pending[row] + encoder.action(action) for row, action in actions.items()}
        for row in actions:
            self.pending[row] = []
        longest_live = max(len(self.history[r]) + len(new.get(r, [])) for r in range(self.rows))
        if self.cache is not None and self.valid.shape[1] > REBUILD_FACTOR * longest_live:
            self._rebuild()
        width = max(len(ids) for ids in new.values())
        device = self.estimator.device
        input_ids = torch.full((self.rows, width), self.estimator.pad_token_id, dtype=torch.long)
        fresh = torch.zeros((self.rows, width), dtype=torch.long)
        positions = torch.zeros((self.rows, width), dtype=torch.long)
        for row, ids in new.items():
            input_ids[row, : len(ids)] = torch.tensor(ids)
            fresh[row, : len(ids)] = 1
            positions[row] = len(self.history[row]) + torch.arange(width)
        attention = torch.cat([self.valid, fresh], dim=1)
        output = self.estimator.backbone(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            position_ids=positions.to(device),
            use_cache=True,
            **cache_kwargs(self.estimator.backbone, self.cache if self.cache is not None else DynamicCache()),
        )
        self.cache = returned_cache(output)
        self.valid = attention
        rows = list(new)
        last = torch.tensor([len(new[row]) - 1 for row in rows], device=device)
        hidden = output.last_hidden_state[torch.tensor(rows, device=device), last]
        values = self.estimator.head(hidden.to(self.estimator.head[0].weight.dtype)).squeeze(-1).tolist()
        for row in rows:
            self.history[row] += new[row]
        return dict(zip(rows, values))

    def _rebuild(self) -> None:
        """Re-encode the live episodes alone (dropping finished episodes and padding from the cache)."""
        length = max(len(h) for h in self.history)
        self.cache = None
        self.valid = torch.zeros((self.rows, 0), dtype=torch.long)
        if length == 0:
            return
        device = self.estimator.device
        input_ids = torch.full((self.rows, length), self.estimator.pad_token_id, dtype=torch.long)
        attention = torch.zeros((self.rows, length), dtype=torch.long)
        for row, ids in enumerate(self.history):
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention[row, : len(ids)] = 1
        positions = torch.arange(length).expand(self.rows, -1)
        output = self.estimator.backbone(
            input_ids=input_ids.to(device), attention_mask=attention.to(device), position_ids=positions.to(device),
            use_cache=True, **cache_kwargs(self.estimator.backbone, DynamicCache()),
        )
        self.cache = returned_cache(output)
        self.valid = attention


class EpisodeScorer:
    """One episode scored step by step: a :class:`BatchScorer` of one row.

    ``score_action(a)`` returns c_t for the next action; ``observe(o)`` adds the env's answer
    (its tokens go in with the next action, so each step is one forward pass over its new tokens).
    """

    def __init__(self, estimator: ProgressEstimator, task: str, observation: str):
        self._batch = BatchScorer(estimator, rows=1)
        self._batch.start(0, task, observation)

    def score_action(self, action: str) -> float:
        return self._batch.score_actions({0: action})[0]

    def observe(self, observation: str) -> None:
        self._batch.observe(0, observation)
