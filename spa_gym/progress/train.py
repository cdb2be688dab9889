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
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from tqdm import tqdm

from ..data.trajectories import Trajectory
from ..training.checkpoints import load_state, recover_folder, save_atomically, save_with_state
from ..training.distributed import global_divisor, global_mean, global_sums, local_share, make_accelerator
from ..training.schedules import check_schedule, make_scheduler
from .estimator import ProgressEstimator
from .transcript import EncodedTrajectory

if TYPE_CHECKING:
    from accelerate import Accelerator

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
    history: list[dict[str, Any]] = field(default_factory=list)  # per epoch: losses, and each step's


def outcome_loss(contributions: torch.Tensor, rewards: torch.Tensor, priors: torch.Tensor,
                 divisor: float | None = None) -> torch.Tensor:
    """mean over trajectories of (c_0 + sum_t c_t - R)^2 (contributions already zero on padding);
    with ``divisor``, the sum of the squares divided by it."""
    errors = (priors + contributions.sum(dim=1) - rewards) ** 2
    return errors.mean() if divisor is None else errors.sum() / divisor


def prefix_value_loss(
    contributions: torch.Tensor, mask: torch.Tensor, rewards: torch.Tensor, priors: torch.Tensor,
    divisor: float | None = None,
) -> torch.Tensor:
    """mean over the opening and every step of (c_0 + sum_{k<=t} c_k - R)^2; with ``divisor``, the
    sum of the squares divided by it."""
    partial = torch.cat([priors.unsqueeze(1), priors.unsqueeze(1) + contributions.cumsum(dim=1)], dim=1)
    weights = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
    errors = (partial - rewards.unsqueeze(1)) ** 2 * weights
    return errors.sum() / (weights.sum() if divisor is None else divisor)


def training_loss(
    contributions: torch.Tensor, mask: torch.Tensor, priors: torch.Tensor, rewards: torch.Tensor, prefix_weight: float,
    divisors: tuple[float, float] | None = None,
) -> torch.Tensor:
    """The outcome loss, plus ``prefix_weight`` times the prefix-value loss. ``divisors``: what to divide
    each term's summed squares by (default: this batch's own counts, giving means; several processes
    pass their global batch's counts over the number of processes, see :func:`loss_divisors`)."""
    outcome_divisor, prefix_divisor = (None, None) if divisors is None else divisors
    loss = outcome_loss(contributions, rewards, priors, outcome_divisor)
    if prefix_weight:
        loss = loss + prefix_weight * prefix_value_loss(contributions, mask, rewards, priors, prefix_divisor)
    return loss


def loss_divisors(accelerator: Accelerator, batch: Sequence[EncodedTrajectory], real: bool) -> tuple[float, float]:
    """The divisors of :func:`training_loss` that make the processes' gradient average the global
    batch's: its numbers of trajectories and of prefix points (openings and steps), over the number
    of processes. ``batch``: this process's share (``real`` False: a stand-in, counted as nothing)."""
    trajectories = len(batch) if real else 0
    points = sum(len(e.action_ends) + 1 for e in batch) if real else 0
    return global_divisor(accelerator, trajectories), global_divisor(accelerator, points)


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
def evaluate_mse(estimator: nn.Module, encoded: list[EncodedTrajectory], batch_size: int,
                 accelerator: Accelerator | None = None) -> float:
    """Mean of (c_0 + sum_t c_t - R)^2 over the trajectories. With an ``accelerator``, each process
    scores its share of each batch (``estimator`` may be the prepared model) and the sums are global."""
    estimator.eval()
    total, count = 0.0, 0
    for batch in _batches(encoded, batch_size, None):
        share, real = (batch, True) if accelerator is None else local_share(accelerator, batch)
        contributions, _, priors = estimator(share)
        if real:
            rewards = torch.tensor([e.reward for e in share], device=contributions.device)
            total += float(outcome_loss(contributions, rewards, priors)) * len(share)
            count += len(share)
    if accelerator is not None:
        total, count = global_sums(accelerator, total, count)
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
    Runs on one process or, under ``accelerate launch``, on several: ``batch_size`` is the global
    batch, each process trains on its share and scores its share of the validation split, the loss is
    the global batch's (see :mod:`spa_gym.training.distributed`) and the main process writes the files;
    a checkpoint resumes with any number of processes.
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
    accelerator = make_accelerator(estimator)
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
    if accelerator.is_main_process:  # finish a swap that a crash interrupted (save_atomically)
        recover_folder(out / CHECKPOINT_DIR)
        recover_folder(out / BEST_DIR)
    accelerator.wait_for_everyone()
    state_path = out / CHECKPOINT_DIR / STATE_FILE
    if resume and state_path.is_file():
        checkpoint = ProgressEstimator.from_pretrained(out / CHECKPOINT_DIR)
        estimator.load_state_dict(checkpoint.state_dict())
        state = load_state(state_path)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, best_epoch, stale, history = (
            state["epoch"] + 1, state["best"], state["best_epoch"], state["stale"], state["history"],
        )
    model, optimizer = accelerator.prepare(estimator, optimizer)
    writer = None
    if args.tensorboard and accelerator.is_main_process:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(out / "tensorboard"))
    rng = random.Random(args.seed)
    for _ in range(start_epoch):  # keep the shuffles of a resumed run identical to an uninterrupted one
        _batches(train_enc, args.batch_size, rng)
    epoch = start_epoch - 1
    for epoch in range(start_epoch, args.epochs):
        if stale >= args.patience:
            break
        model.train()
        batches = _batches(train_enc, args.batch_size, rng)
        running, step_losses = 0.0, []
        bar = tqdm(batches, desc=f"estimator epoch {epoch + 1}/{args.epochs}", leave=False,
                   disable=not (args.progress and accelerator.is_main_process))
        for batch in bar:
            share, real = local_share(accelerator, batch)
            with torch.autocast(estimator.device.type, dtype=getattr(torch, args.autocast or "bfloat16"),
                                enabled=args.autocast is not None):
                contributions, mask, priors = model(share)
            contributions, priors = contributions.float(), priors.float()
            target = torch.tensor([e.reward for e in share], device=contributions.device)
            loss = training_loss(contributions, mask, priors, target, args.prefix_weight,
                                 loss_divisors(accelerator, share, real))
            loss = loss if real else loss * 0.0  # a stand-in share: its process joins the gradient average
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), args.grad_clip)
            optimizer.step()
            scheduler.step()
            step_losses.append(global_mean(accelerator, loss))
            running += step_losses[-1] * len(batch)
            bar.set_postfix(loss=f"{step_losses[-1]:.4f}")
        train_loss = running / len(train_enc)
        val_mse = evaluate_mse(model, val_enc, args.batch_size, accelerator)
        history.append({"epoch": epoch, "train_loss": train_loss, "val_mse": val_mse, "step_losses": step_losses})
        if writer is not None:
            writer.add_scalar("estimator/train_loss", train_loss, epoch)
            writer.add_scalar("estimator/val_mse", val_mse, epoch)
        if val_mse < best:
            best, best_epoch, stale = val_mse, epoch, 0
            if accelerator.is_main_process:
                save_atomically(out / BEST_DIR, estimator.save_pretrained)
        else:
            stale += 1
        if accelerator.is_main_process:
            state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": epoch,
                     "best": best, "best_epoch": best_epoch, "stale": stale, "history": history}
            save_with_state(out / CHECKPOINT_DIR, estimator, state, STATE_FILE)
        accelerator.wait_for_everyone()
    if writer is not None:
        writer.close()
    if (out / BEST_DIR / "head.safetensors").is_file():  # leave the best weights in the estimator
        estimator.load_state_dict(ProgressEstimator.from_pretrained(out / BEST_DIR).state_dict())
    result = TrainingResult(best, best_epoch, epoch + 1, variance, history)
    if accelerator.is_main_process:
        (out / RESULT_FILE).write_text(json.dumps({**asdict(result), "args": asdict(args)}, indent=2))
    accelerator.wait_for_everyone()
    return result
