"""How fast the spa-gym envs step and reset, and how much memory they take. Prints JSON.

``--env alfworld`` (figures below), ``--env webshop`` (benchmarks/webshop_speed.py: steps/s at 1k and
100k products, index build time, memory of 1 vs 8 envs), ``--env virtualhome``
(benchmarks/virtualhome_speed.py: steps/s, resets/s, speed-up over the real simulator's env), or
``--env all`` (default): one JSON object keyed by env, each part run in its own process.

ALFWorld:

Figures (median of ``--runs`` runs, one process, one core):
  steps_per_s          random admissible commands through ``gym.make`` (TimeLimit etc. included)
  resets_per_s_cold    resets to tasks never built before (scene generation + compile + intro)
  resets_per_s_warm    resets to tasks already built (cached)
  ms_per_reset_cold    1000 / resets_per_s_cold
  mb_per_env           Python heap held by one env after a reset (tracemalloc)
Baseline in the same run: ``baseline_steps_per_s`` is a null env (constant answers, same
wrappers), so ``step_cost_ratio`` says how many null-env steps one ALFWorld step costs.
Reference (not measured here): the real ALFWorld/TextWorld engine does about 14 steps/s and
1.4 s per reset on a 36-receptacle kitchen (alfworld 0.4.2 with TextWorld, measured offline;
alfworld/alfworld#23 reports 10-15 steps/s).

    python3 benchmarks/env_speed.py [--env all] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import gymnasium as gym
from common import NullEnv, random_steps_per_s

import spa_gym  # noqa: F401


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


def alfworld(args: argparse.Namespace) -> dict:
    env = gym.make("SPA-ALFWorld-v0", split="train")
    null = gym.wrappers.TimeLimit(gym.wrappers.OrderEnforcing(NullEnv()), 40)
    step_runs = [random_steps_per_s(env, args.steps, seed) for seed in range(args.runs)]
    null_runs = [random_steps_per_s(null, args.steps, seed) for seed in range(args.runs)]
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
    return result


#: The other envs' benchmark scripts (each prints one JSON object).
SCRIPTS = {"webshop": "webshop_speed.py", "virtualhome": "virtualhome_speed.py"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["all", "alfworld", *SCRIPTS], default="all")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20_000, help="ALFWorld steps per run")
    parser.add_argument("--resets", type=int, default=300, help="ALFWorld resets per run")
    args = parser.parse_args()
    results = {}
    if args.env in ("all", "alfworld"):
        results["alfworld"] = alfworld(args)
    for name, script in SCRIPTS.items():
        if args.env in ("all", name):
            command = [sys.executable, str(Path(__file__).with_name(script)), "--runs", str(args.runs)]
            results[name] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    print(json.dumps(results if args.env == "all" else results[args.env], indent=2))


if __name__ == "__main__":
    main()
