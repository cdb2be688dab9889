"""The progress estimator of SPA: a causal-LM backbone plus a small MLP head read at each action's end.

``c_t = head(h_t)`` where ``h_t`` is the backbone's last hidden state at the last token of action
``t`` (see :mod:`.transcript` for the layout). A whole trajectory is scored in one forward pass,
and :class:`~.batch_scorer.EpisodeScorer` scores an episode as it unfolds with a KV cache, so each step costs
only its new tokens. ``save_pretrained`` / ``from_pretrained`` work like transformers' (safetensors).

With ``task_prior=True`` the head is also read once at the end of the opening segment (task and
first observation), before any action: c_0, the outcome expected of the task, as the released
SPA-RL code's acknowledgement turn is scored as a step. Training then fits c_0 + sum_t c_t to R, so
c_0 absorbs the task's base rate and c_1..c_T (what :meth:`ProgressEstimator.score` returns, and
what SPA rewards use) are changes of the expected outcome: potential-based shaping. c_0 itself is
no action's doing and is never a reward; :meth:`ProgressEstimator.priors` reads it.

Example:
    >>> from spa_gym.training.tiny import tiny_model_path
    >>> from spa_gym.data.trajectories import Trajectory
    >>> estimator = ProgressEstimator.from_backbone(tiny_model_path())
    >>> walk = Trajectory("SPA-ALFWorld-v0", "t", "put a mug in sinkbasin", "You are in the middle of a room.")
    >>> walk.add_step("look", "You are in the middle of a room.", 0.0, True)
    >>> walk.add_step("inventory", "You are not carrying anything.", 0.0, True)
    >>> len(estimator.score([walk])[0])
    2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer

from ..data.trajectories import Trajectory
from ..training.checkpoints import (
    is_lora,
    load_head,
    load_model,
    loading,
    read_config,
    save_head,
    save_model,
    write_config,
)
from .transcript import EncodedTrajectory, TranscriptEncoder, pad_batch

CONFIG_FILE = "spa_estimator.json"
HEAD_FILE = "head.safetensors"
BACKBONE_DIR = "backbone"
FORMAT_VERSION = 1


class ProgressEstimator(nn.Module):
    """Backbone (a transformers base model) + MLP head: one scalar contribution per action."""

    def __init__(
        self, backbone: nn.Module, tokenizer: Any, head_hidden: int = 64, base_model_path: str | None = None,
        task_prior: bool = False,
    ):
        super().__init__()
        hidden = backbone.config.hidden_size
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.encoder = TranscriptEncoder(tokenizer)
        self.head_hidden = head_hidden
        self.head = nn.Sequential(nn.Linear(hidden, head_hidden), nn.GELU(), nn.Linear(head_hidden, 1))
        nn.init.zeros_(self.head[2].weight)  # every c_t starts at 0: no large initial sum to unlearn
        nn.init.zeros_(self.head[2].bias)
        self.base_model_path = base_model_path
        self.task_prior = task_prior
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_backbone(
        cls,
        path: str | os.PathLike[str],
        *,
        head_hidden: int = 64,
        lora: Any | None = None,
        torch_dtype: torch.dtype | None = None,
        seed: int = 0,
        task_prior: bool = False,
    ) -> ProgressEstimator:
        """A new estimator on a Hugging Face checkpoint folder (its causal-LM head is not used).

        ``lora``: a ``peft.LoraConfig`` to train low-rank adapters instead of the whole backbone.
        ``task_prior``: also read c_0 before the first action (see the module docstring).
        """
        path = str(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        backbone = (AutoModel.from_pretrained(path, dtype=torch_dtype) if torch_dtype
                    else AutoModel.from_pretrained(path))
        if lora is not None:
            from peft import get_peft_model

            backbone = get_peft_model(backbone, lora)
        torch.manual_seed(seed)
        return cls(backbone, tokenizer, head_hidden, base_model_path=path, task_prior=task_prior)

    @property
    def device(self) -> torch.device:
        return next(self.head.parameters()).device

    # -- scoring --------------------------------------------------------------------------------
    def encode(self, trajectories: Sequence[Trajectory]) -> list[EncodedTrajectory]:
        return [self.encoder.encode(t) for t in trajectories]

    def forward(self, batch: Sequence[EncodedTrajectory]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Contributions ``(B, T_max)``, a mask ``(B, T_max)`` of real steps and the task priors c_0
        ``(B,)`` (zeros unless ``task_prior``), in one forward pass."""
        device = self.device
        input_ids, attention = pad_batch(batch, self.pad_token_id)
        steps = max(max((len(e.action_ends) for e in batch), default=0), 1)
        ends = torch.zeros((len(batch), steps + 1), dtype=torch.long)  # column 0: the opening's last token
        mask = torch.zeros((len(batch), steps), dtype=torch.bool)
        for row, encoded in enumerate(batch):
            ends[row, 0] = encoded.opening_end
            if encoded.action_ends:
                ends[row, 1 : len(encoded.action_ends) + 1] = torch.tensor(encoded.action_ends)
                mask[row, : len(encoded.action_ends)] = True
        hidden = self.backbone(input_ids=input_ids.to(device), attention_mask=attention.to(device)).last_hidden_state
        picked = torch.gather(hidden, 1, ends.to(device).unsqueeze(-1).expand(-1, -1, hidden.size(-1)))
        values = self.head(picked.to(self.head[0].weight.dtype)).squeeze(-1)
        mask = mask.to(device)
        priors = values[:, 0] if self.task_prior else torch.zeros_like(values[:, 0])
        return values[:, 1:] * mask, mask, priors

    @torch.no_grad()
    def score_with_priors(
        self, trajectories: Sequence[Trajectory], batch_size: int = 8
    ) -> tuple[list[list[float]], list[float]]:
        """Per-step contributions c_t and task priors c_0 of each trajectory, in one pass (eval mode)."""
        was_training = self.training
        self.eval()
        scores: list[list[float]] = []
        priors: list[float] = []
        encoded = self.encode(trajectories)
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start : start + batch_size]
            contributions, _, chunk_priors = self(chunk)
            scores.extend(contributions[i, : len(e.action_ends)].tolist() for i, e in enumerate(chunk))
            priors.extend(chunk_priors.tolist())
        self.train(was_training)
        return scores, priors

    def score(self, trajectories: Sequence[Trajectory], batch_size: int = 8) -> list[list[float]]:
        """Per-step contributions c_t of each trajectory."""
        return self.score_with_priors(trajectories, batch_size)[0]

    def priors(self, trajectories: Sequence[Trajectory], batch_size: int = 8) -> list[float]:
        """c_0 of each trajectory's task (all 0.0 unless the estimator reads a task prior)."""
        if not self.task_prior:
            return [0.0] * len(trajectories)
        return self.score_with_priors(trajectories, batch_size)[1]

    # -- persistence ----------------------------------------------------------------------------
    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> None:
        """Save backbone (or LoRA adapter), tokenizer, head and config into a folder."""
        folder = Path(save_directory)
        save_model(self.backbone, self.tokenizer, folder, BACKBONE_DIR)
        save_head(self.head, folder / HEAD_FILE)
        config = {"head_hidden": self.head_hidden, "lora": is_lora(self.backbone),
                  "base_model_path": self.base_model_path, "task_prior": self.task_prior}
        write_config(folder / CONFIG_FILE, config, FORMAT_VERSION)

    @classmethod
    def from_pretrained(cls, load_directory: str | os.PathLike[str]) -> ProgressEstimator:
        """Load an estimator saved by :meth:`save_pretrained`."""
        folder = Path(load_directory)
        with loading(folder, "progress estimator"):
            config = read_config(folder / CONFIG_FILE, FORMAT_VERSION, "progress estimator")
            backbone, tokenizer = load_model(folder, BACKBONE_DIR, AutoModel, config["lora"], config["base_model_path"])
            estimator = cls(backbone, tokenizer, config["head_hidden"], base_model_path=config["base_model_path"],
                            task_prior=config.get("task_prior", False))
            load_head(estimator.head, folder / HEAD_FILE)
        return estimator
