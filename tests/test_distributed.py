"""Data-parallel training with accelerate on CPUs: 2 processes (gloo) with half the batch each train
SFT and the estimator as 1 process does, PPO keeps its replicas equal, and a checkpoint written by
rank 0 resumes with 1 or 2 processes.

Run as a script, this file is the worker that ``accelerate launch`` starts in each process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from spa_gym.agents.sft import SFTConfig, train_sft
from spa_gym.credit import get_credit_method
from spa_gym.data import Trajectory, collect_expert_trajectories, read_trajectories
from spa_gym.data.trajectories import TrajectoryWriter
from spa_gym.pipeline import PRESETS
from spa_gym.progress import EstimatorTrainingConfig, ProgressEstimator, train_estimator
from spa_gym.training import tiny_model_path
from spa_gym.training.distributed import launch_command, make_accelerator

#: 13 demonstrations of unequal lengths: global batches of 6, 6 and 1 (shares of 3 + 3, and 1 + a stand-in).
SFT = SFTConfig(epochs=2, lr=3e-3, batch_size=6, progress=False)
DEMOS = 13
#: 17 walks of 2 to 4 steps, 13 for training: batches of 4, 4, 4 and 1; 4 for validation.
WALKS = 17
ESTIMATOR = EstimatorTrainingConfig(epochs=4, batch_size=4, lr=1e-3, val_fraction=0.25, prefix_weight=1.0,
                                    patience=10, progress=False, tensorboard=False)
HALF = 2  # the epochs after which a run is stopped and resumed
#: PPO on 6 episodes (3 per process; GRPO: groups of 2, 2 + 1 per process), minibatches of 3 (shares 2 + 1)
PPO = PPOConfig(iterations=2, batch_size=6, mini_batch_size=3, gradient_accumulation_steps=1, ppo_epochs=2, lr=1e-3,
                max_new_tokens=4, tensorboard=False)
TOLERANCE = 1e-5  # float rounding of sums split across processes, carried through Adam steps


def random_walk(seed: int) -> Trajectory:
    """A random ALFWorld walk of 2 to 4 steps, rewarded 1 when it opens with a "go to" (something to learn)."""
    import random

    env = gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=2 + seed % 3)
    obs, info = env.reset(seed=seed)
    walk = Trajectory("SPA-ALFWorld-v0", info["task_id"], info["task"], obs)
    rng = random.Random(seed)
    done = False
    while not done:
        action = rng.choice(info["admissible_actions"][:3] + ["fly to the moon"])
        obs, reward, terminated, truncated, info = env.step(action)
        walk.add_step(action, obs, reward, info["grounded"])
        done = terminated or truncated
    walk.final_reward = 1.0 if walk.steps[0].action.startswith("go to") else 0.0
    return walk


def fresh_estimator() -> ProgressEstimator:
    return ProgressEstimator.from_backbone(tiny_model_path(), seed=0, task_prior=True)


def run_jobs(plan: dict) -> None:
    """The jobs of a plan, in this process (alone, or one of those ``accelerate launch`` started)."""
    if "sft" in plan:
        torch.manual_seed(0)
        policy = LLMPolicy.from_pretrained(tiny_model_path())
        train_sft(policy, read_trajectories(plan["sft"]["data"]), plan["sft"]["out"], SFTConfig(**plan["sft"]["args"]))
    for job in plan.get("estimator", []):
        args = EstimatorTrainingConfig(**job["args"])
        train_estimator(fresh_estimator(), read_trajectories(job["data"]), job["out"], args)
    for job in plan.get("ppo", []):
        trainer = ppo_trainer(job["out"], job["credit"], PPOConfig(**job["args"]))
        trainer.train(progress=False)
        torch.save(params(trainer.policy), Path(job["out"]) / f"weights-{os.environ.get('RANK', '0')}.pt")


def ppo_trainer(out: str, credit: str, args: PPOConfig) -> PPOTrainer:
    """PPO of the tiny policy with dense made-up rewards (a critic), or GRPO (none: the value head unused)."""
    from test_ppo_resume import ActionLengthReward

    torch.manual_seed(0)
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=3) for _ in range(args.batch_size)]
    method = ActionLengthReward() if credit == "action-length" else get_credit_method(credit)
    return PPOTrainer(LLMPolicy.from_pretrained(tiny_model_path()), envs, method, out, args,
                      task_sampler=sample_task_indices(100))


def launch(plan: dict, folder: Path, processes: int = 2) -> None:
    """Run a plan's jobs on ``processes`` CPU processes (gloo): ``accelerate launch --multi_gpu`` starts
    them with torchrun, ``ACCELERATE_USE_CPU`` keeps them on the CPU."""
    path = folder / "plan.json"
    path.write_text(json.dumps(plan))
    with socket.socket() as probe:  # a free port, so that parallel test runs do not collide
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command, env = launch_command(processes, [__file__, str(path)], port=port)
    done = subprocess.run(command, capture_output=True, text=True, timeout=500,
                          env={**env, "ACCELERATE_USE_CPU": "true"})
    assert done.returncode == 0, done.stderr[-4000:]


def params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.state_dict().items()}


def max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def step_losses(history: list[dict]) -> list[float]:
    return [loss for epoch in history for loss in epoch["step_losses"]]


def curve_diff(one: list[dict], two: list[dict], keys: tuple[str, ...]) -> float:
    """Largest difference of the per-step losses and of ``keys`` of each epoch between two histories."""
    assert len(one) == len(two) and len(step_losses(one)) == len(step_losses(two))
    pairs = list(zip(step_losses(one), step_losses(two))) + [(a[k], b[k]) for a, b in zip(one, two) for k in keys]
    return max(abs(a - b) for a, b in pairs)


def ppo_job(out: Path, credit: str, **changes: object) -> dict:
    return {"out": str(out), "credit": credit, "args": asdict(replace(PPO, **changes))}


def estimator_job(data: Path, out: Path, epochs: int) -> dict:
    return {"data": str(data), "out": str(out), "args": asdict(replace(ESTIMATOR, epochs=epochs))}


def result(out: Path) -> dict:
    return json.loads((out / "training_result.json").read_text())


def test_processes_launched_without_a_device_each_are_refused(monkeypatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")  # as torchrun sets it, here where accelerate sees one process
    with pytest.raises(ValueError, match="ACCELERATE_USE_CPU=true"):
        make_accelerator(torch.nn.Linear(2, 1))


@pytest.mark.slow
def test_two_processes_with_half_batches_train_as_one_and_checkpoints_resume_in_either_mode(tmp_path) -> None:
    tiny_model_path()  # built once here, not by two processes at once
    demos, walks = tmp_path / "demos.jsonl", tmp_path / "walks.jsonl"
    collect_expert_trajectories(gym.make("SPA-ALFWorld-v0", split="train"), range(DEMOS), path=demos)
    with TrajectoryWriter(walks) as writer:
        for seed in range(WALKS):
            writer.write(random_walk(seed))
    one, two = tmp_path / "one", tmp_path / "two"

    # 1 process, here: SFT; estimator straight through, and stopped after HALF epochs (for 2 processes to resume)
    run_jobs({"sft": {"data": str(demos), "out": str(one / "sft"), "args": asdict(SFT)},
              "estimator": [estimator_job(walks, one / "straight", ESTIMATOR.epochs),
                            estimator_job(walks, one / "half", HALF)]})
    # 2 processes: the same SFT; an estimator stopped after HALF epochs; the 1-process checkpoint resumed
    shutil.copytree(one / "half", two / "resumed")
    launch({"sft": {"data": str(demos), "out": str(two / "sft"), "args": asdict(SFT)},
            "estimator": [estimator_job(walks, two / "half", HALF),
                          estimator_job(walks, two / "resumed", ESTIMATOR.epochs)],
            "ppo": [ppo_job(two / "ppo", "action-length"),
                    ppo_job(two / "grpo", "grpo", iterations=1, group_size=2)]}, tmp_path)
    # 1 process resumes the checkpoints that rank 0 of 2 processes wrote
    run_jobs({"estimator": [estimator_job(walks, two / "half", ESTIMATOR.epochs)]})
    ppo_history = json.loads((two / "ppo" / "ppo_history.json").read_text())["history"]
    resumed_ppo = ppo_trainer(str(two / "ppo"), "action-length", replace(PPO, iterations=3))
    assert resumed_ppo.history == ppo_history and len(resumed_ppo.train(progress=False)) == 3

    sft_one = json.loads((one / "sft" / "sft_history.json").read_text())["history"]
    sft_two = json.loads((two / "sft" / "sft_history.json").read_text())["history"]
    assert len(step_losses(sft_one)) == 2 * 3
    assert curve_diff(sft_one, sft_two, ("loss",)) < TOLERANCE
    assert max_diff(params(LLMPolicy.from_pretrained(one / "sft")), params(LLMPolicy.from_pretrained(two / "sft"))) \
        < TOLERANCE
    straight = result(one / "straight")
    assert len(step_losses(straight["history"])) == ESTIMATOR.epochs * 4
    for resumed in (two / "resumed", two / "half"):  # 1-process checkpoint on 2; 2-process checkpoint on 1
        assert curve_diff(straight["history"], result(resumed)["history"], ("train_loss", "val_mse")) < TOLERANCE
        assert result(resumed)["best_epoch"] == straight["best_epoch"]
        assert max_diff(params(ProgressEstimator.from_pretrained(one / "straight" / "best")),
                        params(ProgressEstimator.from_pretrained(resumed / "best"))) < TOLERANCE
    for run in ("ppo", "grpo"):  # the processes played different episodes and averaged their gradients
        ranks = [torch.load(two / run / f"weights-{rank}.pt") for rank in (0, 1)]
        assert max_diff(*ranks) == 0.0
    assert [h["iteration"] for h in ppo_history] == [1, 2] and ppo_history[-1]["env_steps"] > 0
    assert all(h["policy_loss"] != 0.0 and h["value_loss"] > 0.0 for h in ppo_history)


if __name__ == "__main__":  # a worker of launch()
    run_jobs(json.loads(Path(sys.argv[1]).read_text()))


def test_num_processes_option_is_removed_before_relaunching() -> None:
    from spa_gym.cli import without_option

    assert without_option(["run", "--out", "x", "--num-processes", "2"], "--num-processes") == ["run", "--out", "x"]
    assert without_option(["run", "--num-processes=2", "--seed", "3"], "--num-processes") == ["run", "--seed", "3"]


@pytest.mark.slow
def test_spa_gym_run_smoke_preset_on_two_processes(tmp_path) -> None:
    """The whole pipeline on 2 gloo processes: training stages on both, collection and evaluation on the
    main one only (each file written once), the same folder layout as one process."""
    tiny_model_path()  # built once here, not by two processes at once
    out = tmp_path / "run"
    from spa_gym.cli import main

    assert main(["run", "--preset", "smoke", "--out", str(out), "--num-processes", "2"]) == 0
    stages = ["experts", "sft", "explore", "estimator", "ppo-sparse", "ppo-spa", "eval-sft", "eval-ppo-sparse",
              "eval-ppo-spa"]
    assert sorted(p.name for p in out.glob("*.done")) == sorted(f"{stage}.done" for stage in stages)
    smoke = PRESETS["smoke"]
    assert len(read_trajectories(out / "experts.jsonl")) == smoke.expert_tasks  # collected once
    assert len(read_trajectories(out / "explore.jsonl")) == smoke.explore_episodes
    for agent in ("sft", "ppo-sparse", "ppo-spa"):
        assert len(read_trajectories(out / f"eval-{agent}.jsonl")) == smoke.eval_episodes
    history = json.loads((out / "ppo-spa" / "ppo_history.json").read_text())["history"]
    assert [h["iteration"] for h in history] == [1] and history[0]["env_steps"] > 0
    assert (out / "results.md").read_text().startswith("# SPA-ALFWorld-v0, preset smoke, seed 0")
