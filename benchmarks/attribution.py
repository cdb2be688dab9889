"""Does the progress estimator credit the steps that make progress? Prints JSON.

Ground truth the paper never had: in SPA-ALFWorld-v0 the expert's remaining plan length, read
from the full state, says whether a step made progress (it got shorter) or was a detour or an
invalid command. The estimator never sees it.

Protocol (defaults; all seeded):
  data       noisy expert (epsilon 0.5: half random-admissible, half invalid), 15-step limit;
             train: --episodes trajectories on the train split, 10 rollouts per task;
             test: 150 trajectories on valid_seen (tasks never trained on)
  backbones  "tiny": the tiny local model as built (random weights);
             "sft-like": the same, first fine-tuned as a language model on the action words of
             1,000 expert trajectories (a stand-in for the SFT agent that SPA-RL uses as the
             estimator's backbone);
             "world-model": fine-tuned on every token of those and the training trajectories, so
             that at the token closing an action it anticipates the env's answer
  training   train_estimator: (sum_t c_t - R)^2, --epochs epochs, best by validation MSE
             (head lr 3e-4 / 1e-3; backbone lr 3e-4 / 3e-5 for the world model)
Reported per backbone: validation/test MSE of the summed contributions against the variance of
R (the MSE of always predicting the mean), ranking AUC of c_t (progress steps vs detours and
invalid steps), pooled over all test steps and within trajectories, and wall times.

What we found (2 CPU cores, defaults, tiny model v3): every variant fits the outcomes below the
variance of R (test MSE 0.14-0.18 against 0.23), but ranking differs. Raw tiny backbone: pooled
AUC 0.51 (chance). SFT-like: 0.53. World model: 0.77 pooled, 0.74 within trajectories, at test
MSE 0.18. The project's target (AUC 0.8 with an MSE well below the variance) is not reached. Tracking AUC during training shows why: it peaks early (0.78-0.81 for the world
model, while the MSE is still near the variance) and falls as the MSE improves, because the
loss constrains only the sum, and a flexible estimator fits it best by putting credit where
success becomes recognisable (the final put) and by reading the episode's context rather than by
crediting each useful step. A frozen world-model backbone keeps AUC near 0.8 but cannot fit R
(MSE above the variance). L2 on the contributions, reading the last action word, and a
difference-of-values head did not help at this scale.

    python3 benchmarks/attribution.py [--episodes 1200] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import torch

import spa_gym  # noqa: F401
from spa_gym.envs.alfworld import Episode, TaskSuite, progress_labels
from spa_gym.progress import (
    EstimatorTrainingArgs,
    ProgressEstimator,
    collect_expert_trajectories,
    collect_trajectories,
    make_policy,
    tiny_model_path,
    train_estimator,
)
from spa_gym.progress.metrics import ranking_auc, within_trajectory_auc
from spa_gym.progress.pretrain import pretrain_backbone

#: name -> (pretraining targets or None, trained on, head lr, backbone lr)
VARIANTS = {
    "tiny": (None, None, 3e-4, 3e-4),
    "sft-like": ("actions", "experts", 3e-4, 3e-4),
    "world-model": ("all", "experts+train", 1e-3, 3e-5),
}


def run(episodes: int = 1200, epochs: int = 3, epsilon: float = 0.5, limit: int = 15, experts_count: int = 1000,
        test_count: int = 150, pretrain_epochs: int = 4, variants: tuple[str, ...] = tuple(VARIANTS)) -> dict:
    """The whole protocol; returns the figures (tests run it at a smaller scale)."""
    torch.set_num_threads(2)
    work = Path(tempfile.mkdtemp(prefix="spa-attribution-"))
    start = time.perf_counter()
    train_env = gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=limit)
    walks = collect_trajectories(
        train_env, make_policy("noisy-expert", train_env, epsilon=epsilon, seed=0), episodes,
        seed=0, rollouts_per_task=10,
    )
    test_env = gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=limit)
    test = collect_trajectories(
        test_env, make_policy("noisy-expert", test_env, epsilon=epsilon, seed=1), test_count, seed=1000
    )
    suite = TaskSuite("valid_seen")
    labels = [
        progress_labels(Episode(suite.game(suite.index_of(w.task_id))), [s.action for s in w.steps]) for w in test
    ]
    experts = collect_expert_trajectories(gym.make("SPA-ALFWorld-v0", split="train"), range(2000, 2000 + experts_count))
    data_seconds = time.perf_counter() - start

    rewards = [w.final_reward for w in test]
    mean = sum(rewards) / len(rewards)
    result = {
        "train_trajectories": len(walks),
        "train_won_share": round(sum(w.won for w in walks) / len(walks), 3),
        "expert_trajectories": len(experts),
        "test_trajectories": len(test),
        "test_steps": sum(len(w.steps) for w in test),
        "test_progress_share": round(sum(map(sum, labels)) / sum(map(len, labels)), 3),
        "test_reward_variance": round(sum((r - mean) ** 2 for r in rewards) / len(rewards), 4),
        "data_seconds": round(data_seconds, 1),
        "backbones": {},
    }
    for name in variants:
        targets, corpus, lr, backbone_lr = VARIANTS[name]
        start = time.perf_counter()
        backbone = tiny_model_path()
        if targets is not None:
            texts = experts if corpus == "experts" else experts + walks
            backbone = pretrain_backbone(
                backbone, texts, work / f"{name}-backbone", targets=targets, epochs=pretrain_epochs, progress=False
            )
        pretrain_seconds = time.perf_counter() - start
        estimator = ProgressEstimator.from_backbone(backbone)
        training = train_estimator(
            estimator, walks, work / name,
            EstimatorTrainingArgs(epochs=epochs, lr=lr, backbone_lr=backbone_lr, batch_size=16,
                                  patience=epochs, progress=False, tensorboard=False),
        )
        scores = estimator.score(test)
        result["backbones"][name] = {
            "val_mse": round(training.best_val_mse, 4),
            "val_reward_variance": round(training.reward_variance, 4),
            "test_mse": round(sum((sum(c) - w.final_reward) ** 2 for c, w in zip(scores, test)) / len(test), 4),
            "auc_pooled": round(ranking_auc(scores, labels), 3),
            "auc_within_trajectory": round(within_trajectory_auc(scores, labels), 3),
            "pretrain_seconds": round(pretrain_seconds, 1),
            "train_seconds": round(time.perf_counter() - start - pretrain_seconds, 1),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(run(args.episodes, args.epochs, args.epsilon, args.limit), indent=2))


if __name__ == "__main__":
    main()
