"""The SPA core: the progress estimator and the per-step rewards it turns an outcome into.

- :mod:`.transcript`: a trajectory as the estimator's token sequence, with each action's span.
- :mod:`.estimator`: :class:`ProgressEstimator` (backbone + MLP head), ``save_pretrained`` /
  ``from_pretrained``; :mod:`.batch_scorer`: incremental (KV-cached) scoring, one episode or a batch.
- :mod:`.train`: estimator training (sum of contributions = outcome); :mod:`.pretrain`: optional
  causal-LM pretraining of a scratch backbone on transcripts.
- :mod:`.recipes`: named estimator recipes (SPA-RL's, and the task-prior one).
- :mod:`.spa_reward`: SPA's per-step reward ``alpha * c_t + beta * g_t`` (+ R), its one formula.
- :mod:`.redistribute`: sparse, uniform, outcome-broadcast and SPA per-step rewards for trajectories.
- :mod:`.metrics`: how well contributions rank the steps that made progress.
"""

from .batch_scorer import BatchScorer, EpisodeScorer
from .estimator import ProgressEstimator
from .recipes import ESTIMATOR_RECIPES, EstimatorRecipe
from .redistribute import Redistributor, get_redistributor
from .spa_reward import SPAReward
from .train import EstimatorTrainingConfig, TrainingResult, train_estimator

__all__ = [
    "ESTIMATOR_RECIPES",
    "BatchScorer",
    "EpisodeScorer",
    "EstimatorRecipe",
    "EstimatorTrainingConfig",
    "ProgressEstimator",
    "Redistributor",
    "SPAReward",
    "TrainingResult",
    "get_redistributor",
    "train_estimator",
]
