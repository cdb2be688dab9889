"""Attribution quality of the progress estimator against the ALFWorld expert's ground truth.

This runs ``benchmarks/attribution.py``'s protocol at a smaller scale (about a minute on 2 cores).
It pins what the estimator achieves today, not the project's target: the issue asks for a ranking
AUC >= 0.8 together with an outcome fit well below the variance of R, which no recipe we tried
reaches on CPU (see the benchmark's docstring and the issue note). What holds, and is asserted:
an estimator on a backbone pretrained as a world model on the transcripts ranks progress steps
well above chance, and far above the same estimator on the raw tiny backbone.
"""

from __future__ import annotations

import importlib.util

import pytest

from conftest import REPO_ROOT


def load_benchmark():
    spec = importlib.util.spec_from_file_location("attribution_benchmark", REPO_ROOT / "benchmarks" / "attribution.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_world_model_backbone_ranks_progress_steps_above_chance() -> None:
    result = load_benchmark().run(
        episodes=600, epochs=2, experts_count=300, test_count=100, pretrain_epochs=3, variants=("tiny", "world-model")
    )
    assert result["train_trajectories"] == 600 and 0.3 < result["train_won_share"] < 0.8
    assert 0.4 < result["test_progress_share"] < 0.6
    world, raw = result["backbones"]["world-model"], result["backbones"]["tiny"]
    assert world["auc_pooled"] >= 0.68
    assert world["auc_within_trajectory"] >= 0.65
    assert world["auc_pooled"] > raw["auc_pooled"] + 0.1
