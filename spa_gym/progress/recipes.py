"""Named estimator recipes: how to build a :class:`~.estimator.ProgressEstimator` and train it.

- ``"spa-rl"``: SPA-RL's loss, the sum of the contributions fitted to the outcome.
- ``"prior"``: a task prior c_0 and the prefix-value term, with linear learning-rate decay (see
  :mod:`.train`). ``benchmarks/attribution.py`` (how well c_t ranks the steps that make progress)
  and ``benchmarks/sb3_learning.py`` (MaskablePPO on SPA rewards) compare the two; their figures
  are in the README.

Example:
    >>> args = ESTIMATOR_RECIPES["prior"].training_args(epochs=3, progress=False)
    >>> args.prefix_weight, args.schedule, args.lr, args.backbone_lr
    (1.0, 'linear', 0.0003, 3e-05)
    >>> ESTIMATOR_RECIPES["spa-rl"].task_prior
    False
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .estimator import ProgressEstimator
from .train import EstimatorTrainingConfig


@dataclass(frozen=True)
class EstimatorRecipe:
    """The estimator's build option and the training options a recipe fixes."""

    task_prior: bool
    lr: float
    backbone_lr: float
    prefix_weight: float
    schedule: str

    def build(self, backbone: str | os.PathLike[str], **kwargs: object) -> ProgressEstimator:
        """A new estimator on ``backbone`` (:meth:`ProgressEstimator.from_backbone` keyword arguments pass through)."""
        return ProgressEstimator.from_backbone(backbone, task_prior=self.task_prior, **kwargs)

    def training_args(self, **overrides: object) -> EstimatorTrainingConfig:
        """:class:`EstimatorTrainingConfig` with this recipe's options; ``overrides`` set the rest (or replace them)."""
        fixed = {"lr": self.lr, "backbone_lr": self.backbone_lr, "prefix_weight": self.prefix_weight,
                 "schedule": self.schedule}
        return EstimatorTrainingConfig(**{**fixed, **overrides})


ESTIMATOR_RECIPES: dict[str, EstimatorRecipe] = {
    "spa-rl": EstimatorRecipe(task_prior=False, lr=1e-3, backbone_lr=3e-5, prefix_weight=0.0, schedule="constant"),
    "prior": EstimatorRecipe(task_prior=True, lr=3e-4, backbone_lr=3e-5, prefix_weight=1.0, schedule="linear"),
}
