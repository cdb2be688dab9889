"""Trajectories, the progress estimator and reward redistribution: the SPA core.

- :mod:`.trajectories`: trajectory data and its JSONL form.
- :mod:`.policies`, :mod:`.collect`: simple policies (expert, random, noisy expert) and collection.
- :mod:`.transcript`, :mod:`.estimator`: the progress estimator (backbone + MLP head), one-pass
  and incremental (KV-cached) scoring, ``save_pretrained`` / ``from_pretrained``.
- :mod:`.train`: estimator training (sum of contributions = outcome).
- :mod:`.recipes`: named estimator recipes (SPA-RL's, and the task-prior one).
- :mod:`.redistribute`: sparse, uniform, outcome-broadcast and SPA per-step rewards.
"""

from .collect import collect_expert_trajectories, collect_trajectories, expert_episode, play_episode
from .batch_scorer import BatchScorer, EpisodeScorer
from .estimator import ProgressEstimator
from .policies import ExpertPolicy, NoisyExpertPolicy, RandomPolicy, make_policy
from .recipes import ESTIMATOR_RECIPES, EstimatorRecipe
from .redistribute import Redistributor, get_redistributor
from .train import EstimatorTrainingArgs, TrainingResult, train_estimator
from .trajectories import SCHEMA_VERSION, Step, Trajectory, TrajectoryWriter, read_trajectories

__all__ = [
    "ESTIMATOR_RECIPES",
    "SCHEMA_VERSION",
    "BatchScorer",
    "EpisodeScorer",
    "EstimatorRecipe",
    "EstimatorTrainingArgs",
    "ExpertPolicy",
    "NoisyExpertPolicy",
    "ProgressEstimator",
    "RandomPolicy",
    "Redistributor",
    "Step",
    "Trajectory",
    "TrajectoryWriter",
    "TrainingResult",
    "collect_expert_trajectories",
    "collect_trajectories",
    "expert_episode",
    "get_redistributor",
    "make_policy",
    "play_episode",
    "read_trajectories",
    "train_estimator",
]
