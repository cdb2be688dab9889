"""The credit arena's LLM view: the agent of ``spa-gym run`` trained by PPO with each credit method.

Used by ``credit_arena.py --llm-model DIR``. Every method starts from the same model (an SFT agent,
e.g. the ``sft/merged`` folder of a ``spa-gym run``) with a fresh LoRA adapter, as the main job's PPO
does (``--no-llm-lora``: full fine-tuning), plays the same task groups (``--llm-group``
episodes of a task per group, the same seeds), trains with the cpu preset's PPO settings until
its env steps reach ``--llm-budget``, and is evaluated greedily on the first ``--llm-eval``
tasks of the benchmark's test split. ``turn-critic`` is PPO with sparse rewards and the value
head as a turn-level critic; ``spa`` adds SPA's rewards from ``--llm-estimator`` (the run's
``estimator/best``); ``grpo``, ``rloo`` and ``gigpo`` are critic-free. ``mc-prm`` is not offered:
Monte Carlo values of an LLM policy would need rollouts that continue each conversation, which
the LLM trainer does not implement. Cost per iteration: seconds, generated turns (one generation per
env step, batched across episodes), and scoring passes (old and reference log-probs, then one per
PPO epoch, per episode).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from spa_gym.agents.rollout import evaluate, play_episodes
from spa_gym.credit import CreditMethod, get_credit_method
from spa_gym.envs import ENV_SPECS
from spa_gym.pipeline import PRESETS
from spa_gym.progress import ProgressEstimator
from spa_gym.training.activations import checkpoint_activations
from spa_gym.training.models import lora_config

LLM_METHODS = ("turn-critic", "spa", "grpo", "rloo", "gigpo")
#: The PPO settings of the cpu preset (the main job's), shared by every method.
PRESET = PRESETS["cpu"]


def llm_credit(method: str, estimator_dir: str | None) -> CreditMethod:
    if method == "turn-critic":
        return get_credit_method("sparse")
    if method == "spa":
        if not estimator_dir:
            raise ValueError("the LLM view's spa run needs --llm-estimator (a run's estimator/best folder)")
        estimator = ProgressEstimator.from_pretrained(estimator_dir).eval()
        return get_credit_method("spa", estimator=estimator, reward=PRESET.spa_reward)
    return get_credit_method(method)


def load_agent(model_dir: str, lora: bool) -> LLMPolicy:
    policy = LLMPolicy.from_pretrained(model_dir, lora=lora_config() if lora else None)
    policy.autocast_dtype = getattr(torch, PRESET.autocast) if PRESET.autocast else None
    if PRESET.gradient_checkpointing:
        checkpoint_activations(policy.model)
    return policy


def llm_run(method: str, seed: int, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """One method, one seed: PPO until ``--llm-budget`` env steps, then a greedy evaluation."""
    env_id, limit = args.llm_env, min(PRESET.max_steps, ENV_SPECS[args.llm_env].max_episode_steps)
    policy = load_agent(args.llm_model, args.llm_lora)
    envs = [gym.make(env_id, max_episode_steps=limit) for _ in range(args.llm_batch)]
    config = PPOConfig(iterations=10**9, batch_size=args.llm_batch, group_size=args.llm_group,
                       mini_batch_size=max(1, args.llm_batch // 4), gradient_accumulation_steps=1, lr=PRESET.ppo_lr,
                       ppo_epochs=PRESET.ppo_epochs, temperature=PRESET.temperature, style=PRESET.style,
                       max_new_tokens=PRESET.max_new_tokens, seed=seed, tensorboard=False)
    trainer = PPOTrainer(policy, envs, llm_credit(method, args.llm_estimator), out / f"{method}-{seed}", config,
                         task_sampler=sample_task_indices(envs[0].unwrapped.num_tasks()))
    seconds: list[float] = []
    while trainer.env_steps < args.llm_budget:
        start = time.perf_counter()
        trainer.step()
        seconds.append(time.perf_counter() - start)
    steps = [record["env_steps"] for record in trainer.history]
    turns = [after - before for before, after in zip([0, *steps], steps)]
    split = ENV_SPECS[env_id].eval_split
    eval_envs = [gym.make(env_id, split=split, max_episode_steps=limit) for _ in range(args.llm_batch)]
    walks = []
    for first in range(0, args.llm_eval, len(eval_envs)):
        batch = eval_envs[: min(len(eval_envs), args.llm_eval - first)]
        walks += [e.trajectory for e in play_episodes(policy, batch, options=[{"task_index": first + i}
                                                                               for i in range(len(batch))],
                                                      style=PRESET.style, greedy=True,
                                                      max_new_tokens=PRESET.max_new_tokens)]
    result = evaluate(walks)
    return {
        "seed": seed, "success": result.success_rate.value, "wins": sum(w.won for w in walks),
        "episodes": len(walks), "env_steps": trainer.env_steps, "iterations": len(seconds),
        "train_success_per_iteration": [record["success_rate"] for record in trainer.history],
        "seconds_per_iteration": [round(s, 1) for s in seconds],
        "generated_turns_per_iteration": turns,
        "scoring_passes_per_iteration": args.llm_batch * (2 + PRESET.ppo_epochs),
    }


def finished_run(method: str, seed: int, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """:func:`llm_run`'s result, kept as ``<method>-<seed>.json`` in ``out`` as soon as it is done; a
    rerun (after a crash) takes the runs already finished from there."""
    path = out / f"{method}-{seed}.json"
    if path.is_file():
        return json.loads(path.read_text())
    result = llm_run(method, seed, args, out)
    path.write_text(json.dumps(result, indent=2))
    return result


def llm_view(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Every LLM method over the seeds, summarised (each run's result saved as it finishes)."""
    entry: dict[str, Any] = {
        "env": args.llm_env, "model": args.llm_model, "budget": args.llm_budget, "batch": args.llm_batch,
        "group": args.llm_group, "lora": args.llm_lora, "eval_tasks": args.llm_eval,
        "eval_split": ENV_SPECS[args.llm_env].eval_split, "methods": {},
    }
    out.mkdir(parents=True, exist_ok=True)
    for method in args.llm_methods:
        runs = [finished_run(method, seed, args, out) for seed in args.seeds]
        entry["methods"][method] = {
            "success_per_seed": [run["success"] for run in runs],
            "wins_per_seed": [run["wins"] for run in runs],
            "success_mean": round(statistics.mean(run["success"] for run in runs), 3),
            "seconds_per_iteration_median": statistics.median(s for run in runs for s in run["seconds_per_iteration"]),
            "generated_turns_per_iteration_median": statistics.median(
                t for run in runs for t in run["generated_turns_per_iteration"]),
            "runs": runs,
        }
    return entry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--llm-model", help="LLM view: the SFT agent's folder (e.g. RUN/sft/model); off when absent")
    parser.add_argument("--llm-estimator", help="LLM view, spa: the run's estimator folder (RUN/estimator/best)")
    parser.add_argument("--llm-env", default="SPA-WebShop-v0", choices=sorted(ENV_SPECS))
    parser.add_argument("--llm-methods", nargs="+", default=list(LLM_METHODS), choices=LLM_METHODS)
    parser.add_argument("--llm-budget", type=int, default=200, help="LLM view: env steps of PPO rollouts per run")
    parser.add_argument("--llm-batch", type=int, default=8, help="LLM view: episodes per PPO iteration")
    parser.add_argument("--llm-group", type=int, default=4, help="LLM view: episodes per task group")
    parser.add_argument("--llm-eval", type=int, default=32, help="LLM view: test tasks evaluated")
    parser.add_argument("--llm-lora", action=argparse.BooleanOptionalAction, default=True,
                        help="LLM view: train a LoRA adapter (the main job's way) or the whole model")
    parser.add_argument("--llm-out", default="credit_arena_llm", help="LLM view: folder of the PPO runs")
