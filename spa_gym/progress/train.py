"""Training the progress estimator: make the per-step contributions of a trajectory sum to its outcome.

loss = mean over trajectories of (c_0 + sum_t c_t - R)^2, as in SPA-RL (c_0 is the task prior of
an estimator built with ``task_prior=True``, else 0). ``prefix_weight`` adds the prefix-value term
(every partial sum c_0 + sum_{k<=t} c_k regressed on R as well), which makes the partial sums
estimates of the expected outcome and each c_t the change that step t made to it: on
``benchmarks/attribution.py`` this ranks progress steps markedly better than the sum alone, which
is free to load credit onto the last steps or to charge every step a toll (a lost noisy-expert
episode runs to the step limit). A validation split drives early stopping; scalars go to
TensorBoard; a checkpoint after every epoch makes the run resumable.

Example:
    >>> args = EstimatorTrainingConfig(epochs=3, batch_size=4)
    >>> args.lr
    0.001
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from ..data.trajectories import Trajectory
from ..training.checkpoints import load_state, recover_folder, save_atomically, save_with_state
from ..training.schedules import check_schedule, make_scheduler
from .estimator import ProgressEstimator
from .transcript import EncodedTrajectory

BEST_DIR = "best"
CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "training_state.pt"
RESULT_FILE = "training_result.json"


@dataclass
class EstimatorTrainingConfig:
    """Everything that shapes an estimator training run."""

    epochs: int = 20
    lr: float = 1e-3  # learning rate of the head
    backbone_lr: float | None = None  # of the backbone (default: lr); lower keeps more of a pretrained backbone
    weight_decay: float = 0.01
    batch_size: int = 16
    val_fraction: float = 0.1
    patience: int = 3  # epochs without a better validation loss before stopping
    grad_clip: float = 1.0
    prefix_weight: float = 0.0  # weight of the prefix-value term (see prefix_value_loss); 0 is SPA-RL's loss
    schedule: str = "constant"  # learning rates: "constant", or "linear" decay to 0 over the epochs
    #: Dtype of the training passes under ``torch.autocast`` (e.g. "bfloat16"; None: the weights' own).
    #: Validation and scoring stay in the weights' dtype.
    autocast: str | None = None
    seed: int = 0
    tensorboard: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        check_schedule(self.schedule)


@dataclass
class TrainingResult:
    best_val_mse: float
    best_epoch: int
    epochs_run: int
    reward_variance: float  # variance of R on the validation split: the MSE of always predicting its mean
    history: list[dict[str, float]] = field(default_factory=list)


def outcome_loss(contributions: torch.Tensor, rewards: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
    """mean over trajectories of (c_0 + sum_t c_t - R)^2 (contributions already zero on padding)."""
    return ((priors + contributions.sum(dim=1) - rewards) ** 2).mean()


def prefix_value_loss(
    contributions: torch.Tensor, mask: torch.Tensor, rewards: torch.Tensor, priors: torch.Tensor
) -> torch.Tensor:
    """mean over the opening and every step of (c_0 + sum_{k<=t} c_k - R)^2."""
    partial = torch.cat([priors.unsqueeze(1), priors.unsqueeze(1) + contributions.cumsum(dim=1)], dim=1)
    weights = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
    errors = (partial - rewards.unsqueeze(1)) ** 2 * weights
    return errors.sum() / weights.sum()


def training_loss(
    contributions: torch.Tensor, mask: torch.Tensor, priors: torch.Tensor, rewards: torch.Tensor, prefix_weight: float
) -> torch.Tensor:
    """The outcome loss, plus ``prefix_weight`` times the prefix-value loss."""
    loss = outcome_loss(contributions, rewards, priors)
    if prefix_weight:
        loss = loss + prefix_weight * prefix_value_loss(contributions, mask, rewards, priors)
    return loss


def split_trajectories(trajectories: Sequence[Trajectory], val_fraction: float, seed: int) -> tuple[list, list]:
    """A seeded train/validation split by task id, so no task appears on both sides."""
    tasks = sorted({t.task_id for t in trajectories})
    random.Random(seed).shuffle(tasks)
    n_val = max(1, round(len(tasks) * val_fraction)) if val_fraction > 0 and len(tasks) > 1 else 0
    val_tasks = set(tasks[:n_val])
    train = [t for t in trajectories if t.task_id not in val_tasks]
    val = [t for t in trajectories if t.task_id in val_tasks]
    return train, val


def _batches(items: list[EncodedTrajectory], size: int, rng: random.Random | None) -> list[list[EncodedTrajectory]]:
    order = list(range(len(items)))
    if rng is not None:
        rng.shuffle(order)
    return [[items[i] for i in order[start : start + size]] for start in range(0, len(order), size)]


@torch.no_grad()
def evaluate_mse(estimator: ProgressEstimator, encoded: list[EncodedTrajectory], batch_size: int) -> float:
    """Mean of (c_0 + sum_t c_t - R)^2 over the trajectories."""
    estimator.eval()
    total, count = 0.0, 0
    for batch in _batches(encoded, batch_size, None):
        contributions, _, priors = estimator(batch)
        rewards = torch.tensor([e.reward for e in batch], device=contributions.device)
        total += float(outcome_loss(contributions, rewards, priors)) * len(batch)
        count += len(batch)
    return total / max(count, 1)


def train_estimator(
    estimator: ProgressEstimator,
    trajectories: Sequence[Trajectory],
    out_dir: str | os.PathLike[str],
    args: EstimatorTrainingConfig | None = None,
    resume: bool = True,
) -> TrainingResult:
    """Train ``estimator`` in place; the best model (by validation MSE) is saved in ``out_dir/best``.

    With ``resume=True`` a run interrupted after some epochs continues from ``out_dir/checkpoint``.
    """
    args = args or EstimatorTrainingConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not trajectories:
        raise ValueError("no trajectories to train on")
    train, val = split_trajectories(trajectories, args.val_fraction, args.seed)
    if not val:
        val = train
    train_enc, val_enc = estimator.encode(train), estimator.encode(val)
    rewards = [e.reward for e in val_enc]
    mean_r = sum(rewards) / len(rewards)
    variance = sum((r - mean_r) ** 2 for r in rewards) / len(rewards)

    torch.manual_seed(args.seed)
    backbone_params = [p for p in estimator.backbone.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": list(estimator.head.parameters()), "lr": args.lr},
            {"params": backbone_params, "lr": args.lr if args.backbone_lr is None else args.backbone_lr},
        ],
        weight_decay=args.weight_decay,
    )
    total_updates = args.epochs * math.ceil(len(train_enc) / args.batch_size)
    scheduler = make_scheduler(optimizer, args.schedule, total_updates)
    start_epoch, best, best_epoch, stale, history = 0, math.inf, -1, 0, []
    state_path = recover_folder(out / CHECKPOINT_DIR) / STATE_FILE
    if resume and state_path.is_file():
        checkpoint = ProgressEstimator.from_pretrained(out / CHECKPOINT_DIR)
        estimator.load_state_dict(checkpoint.state_dict())
        state = load_state(state_path)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, best_epoch, stale, history = (
            state["epoch"] + 1, state["best"], state["best_epoch"], state["stale"], state["history"],
        )
    writer = None
    if args.tensorboard:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(out / "tensorboard"))
    rng = random.Random(args.seed)
    for _ in range(start_epoch):  # keep the shuffles of a resumed run identical to an uninterrupted one
        _batches(train_enc, args.batch_size, rng)
    epoch = start_epoch - 1
    for epoch in range(start_epoch, args.epochs):
        if stale >= args.patience:
            break
        estimator.train()
        batches = _batches(train_enc, args.batch_size, rng)
        running = 0.0
        bar = tqdm(batches, desc=f"estimator epoch {epoch + 1}/{args.epochs}", disable=not args.progress, leave=False)
        for batch in bar:
            with torch.autocast(estimator.device.type, dtype=getattr(torch, args.autocast or "bfloat16"),
                                enabled=args.autocast is not None):
                contributions, mask, priors = estimator(batch)
            contributions, priors = contributions.float(), priors.float()
            target = torch.tensor([e.reward for e in batch], device=contributions.device)
            loss = training_loss(contributions, mask, priors, target, args.prefix_weight)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(estimator.parameters(), args.grad_clip)
            optimizer.step()
            scheduler.step()
            running += loss.item() * len(batch)
            bar.set_postfix(loss=f"{loss.item():.4f}")
        train_loss = running / len(train_enc)
        val_mse = evaluate_mse(estimator, val_enc, args.batch_size)
        history.append({"epoch": epoch, "train_loss": train_loss, "val_mse": val_mse})
        if writer is not None:
            writer.add_scalar("estimator/train_loss", train_loss, epoch)
            writer.add_scalar("estimator/val_mse", val_mse, epoch)
        if val_mse < best:
            best, best_epoch, stale = val_mse, epoch, 0
            save_atomically(out / BEST_DIR, estimator.save_pretrained)
        else:
            stale += 1
        state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": epoch, "best": best,
                 "best_epoch": best_epoch, "stale": stale, "history": history}
        save_with_state(out / CHECKPOINT_DIR, estimator, state, STATE_FILE)
    if writer is not None:
        writer.close()
    if (recover_folder(out / BEST_DIR) / "head.safetensors").is_file():  # leave the best weights in the estimator
        estimator.load_state_dict(ProgressEstimator.from_pretrained(out / BEST_DIR).state_dict())
    result = TrainingResult(best, best_epoch, epoch + 1, variance, history)
    (out / RESULT_FILE).write_text(json.dumps({**asdict(result), "args": asdict(args)}, indent=2))
    return result
