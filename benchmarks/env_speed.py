"""How fast SPA-ALFWorld-v0 steps and resets, and how much memory an env takes. Prints JSON.

Figures (median of ``--runs`` runs, one process, one core):
  steps_per_s          random admissible commands through ``gym.make`` (TimeLimit etc. included)
  resets_per_s_cold    resets to tasks never built before (scene generation + compile + intro)
  resets_per_s_warm    resets to tasks already built (cached)
  ms_per_reset_cold    1000 / resets_per_s_cold
  mb_per_env           Python heap held by one env after a reset (tracemalloc)
Baseline in the same run: ``baseline_steps_per_s`` is a null env (constant answers, same
wrappers), so ``step_cost_ratio`` says how many null-env steps one ALFWorld step costs.
Reference (not measured here): the real ALFWorld/TextWorld engine does about 14 steps/s and
1.4 s per reset on a 36-receptacle kitchen (shared/research/alfworld.md).

    python3 benchmarks/env_speed.py [--runs 5] [--steps 20000] [--resets 300]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import tracemalloc

import gymnasium as gym

import spa_gym  # noqa: F401
from spa_gym.envs.base import TextEnv


class NullEnv(TextEnv):
    """Answers every command with a constant: the cost of the Gymnasium loop itself."""

    def _reset_task(self, options):
        return "start"

    def _step_text(self, action):
        return "Nothing happens.", 0.0, False, False

    def admissible_actions(self):
        return ["look"]


def steps_per_s(env: gym.Env, steps: int, seed: int) -> float:
    rng = random.Random(seed)
    _, info = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(rng.choice(info["admissible_actions"]))
        if terminated or truncated:
            _, info = env.reset()
    return steps / (time.perf_counter() - start)


def resets_per_s(split: str, indices: list[int]) -> float:
    env = gym.make("SPA-ALFWorld-v0", split=split)
    start = time.perf_counter()
    for index in indices:
        env.reset(options={"task_index": index})
    return len(indices) / (time.perf_counter() - start)


def mb_per_env() -> float:
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    env = gym.make("SPA-ALFWorld-v0", split="train")
    env.reset(options={"task_index": 3000})
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del env
    return size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--resets", type=int, default=300)
    args = parser.parse_args()

    env = gym.make("SPA-ALFWorld-v0", split="train")
    null = gym.wrappers.TimeLimit(gym.wrappers.OrderEnforcing(NullEnv()), 40)
    step_runs = [steps_per_s(env, args.steps, seed) for seed in range(args.runs)]
    null_runs = [steps_per_s(null, args.steps, seed) for seed in range(args.runs)]
    cold = [resets_per_s("train", list(range(run * args.resets, (run + 1) * args.resets))) for run in range(args.runs)]
    warm_indices = list(range(100)) * (args.resets // 100 + 1)
    resets_per_s("train", warm_indices[:100])  # build them once
    warm = [resets_per_s("train", warm_indices[: args.resets]) for _ in range(args.runs)]
    result = {
        "env": "SPA-ALFWorld-v0",
        "runs": args.runs,
        "steps_per_s": round(statistics.median(step_runs)),
        "baseline_steps_per_s": round(statistics.median(null_runs)),
        "step_cost_ratio": round(statistics.median(null_runs) / statistics.median(step_runs), 2),
        "resets_per_s_cold": round(statistics.median(cold), 1),
        "ms_per_reset_cold": round(1000 / statistics.median(cold), 3),
        "resets_per_s_warm": round(statistics.median(warm), 1),
        "mb_per_env": round(mb_per_env(), 3),
        "reference_real_engine": {"steps_per_s": 14, "s_per_reset": 1.4},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
