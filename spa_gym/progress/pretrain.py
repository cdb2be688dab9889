"""Language-model fine-tuning of an estimator backbone on trajectory transcripts.

SPA-RL builds its estimator on the SFT agent, a model that already knows the environment. Before
an agent exists, :func:`pretrain_backbone` gives a backbone that knowledge from trajectories
alone, with the estimator's own transcript layout (:mod:`.transcript`):

- ``targets="actions"``: next-token loss on the action words only (an SFT stand-in: it learns
  what the policy that made the trajectories does);
- ``targets="all"``: on every token, observations included (a world model: at the token that
  closes an action, where the estimator reads c_t, it learns to anticipate the env's answer).

Example:
    >>> import tempfile
    >>> from spa_gym.data.trajectories import Trajectory
    >>> from spa_gym.training.tiny import tiny_model_path
    >>> walk = Trajectory("SPA-ALFWorld-v0", "t", "put a mug in sinkbasin", "You are in the middle of a room.")
    >>> walk.add_step("look", "You are in the middle of a room.", 0.0, True)
    >>> out = pretrain_backbone(tiny_model_path(), [walk], tempfile.mkdtemp(), epochs=1, progress=False)
    >>> (out / "model.safetensors").is_file()
    True
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer

from ..data.trajectories import Trajectory
from .transcript import EncodedTrajectory, TranscriptEncoder, pad_batch


def _labels(batch: Sequence[EncodedTrajectory], input_ids: torch.Tensor, targets: str) -> torch.Tensor:
    labels = torch.full_like(input_ids, -100)
    for row, encoded in enumerate(batch):
        if targets == "all":
            labels[row, : len(encoded.input_ids)] = input_ids[row, : len(encoded.input_ids)]
            continue
        for first, last in zip(encoded.action_starts, encoded.action_ends):
            labels[row, first + 1 : last] = input_ids[row, first + 1 : last]  # the words between the markers
    return labels


def pretrain_backbone(
    base: str | os.PathLike[str],
    trajectories: Sequence[Trajectory],
    out_dir: str | os.PathLike[str],
    *,
    targets: str = "all",
    epochs: int = 4,
    lr: float = 3e-3,
    batch_size: int = 16,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Fine-tune the causal LM at ``base`` on the transcripts; save it (with its tokenizer) to ``out_dir``."""
    if targets not in ("all", "actions"):
        raise ValueError(f"targets must be 'all' or 'actions', got {targets!r}")
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    encoder = TranscriptEncoder(tokenizer)
    encoded = [encoder.encode(t) for t in trajectories]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = random.Random(seed)
    model.train()
    for epoch in range(epochs):
        rng.shuffle(encoded)
        starts = range(0, len(encoded), batch_size)
        for start in tqdm(starts, desc=f"pretrain epoch {epoch + 1}/{epochs}", disable=not progress, leave=False):
            batch = encoded[start : start + batch_size]
            input_ids, attention = pad_batch(batch, pad)
            loss = model(input_ids=input_ids, attention_mask=attention, labels=_labels(batch, input_ids, targets)).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
