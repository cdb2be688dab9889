"""How fast SPA-VirtualHome-v0 steps and resets. Prints JSON.

Figures (median of ``--runs`` runs, one process, one core; the env is wrapped like ``gym.make`` does,
OrderEnforcing + TimeLimit(40)):
  steps_per_s_random     random admissible commands on generated households (~130 nodes)
  steps_per_s_expert     env.step with the expert's commands (the expert's own planning not timed)
  expert_calls_per_s     env.expert_action() calls (each checks its proposal on a copy of the episode)
  resets_per_s_cold      resets to tasks never built before (household + task generation + parsing)
  resets_per_s_warm      resets cycling over 25 tasks already built (cached, then cloned)
  steps_per_s_scene1     random admissible commands on a real TrimmedTestScene1 graph (287 nodes, 5.7k
                         edges) from shared/fixtures, the scene size of the reference figures below
Baseline in the same run: ``baseline_steps_per_s`` is a null env (constant answers, same wrappers),
so ``step_cost_ratio`` says how many null-env steps one VirtualHome step costs.
Reference (quoted, not measured here): SPA-RL/STeCa's VirtualHome env takes about 15 ms per step on
TrimmedTestScene1 (measured offline with eai-eval's simulator; the simulator alone 0.56 ms per
line); ``speedup_vs_steca_env_scene1`` compares the two on
the same scene size.

    python3 benchmarks/virtualhome_speed.py [--runs 5] [--steps 5000] [--resets 200]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import time
from pathlib import Path

import gymnasium as gym
from common import NullEnv, random_steps_per_s

from spa_gym.envs.virtualhome.env import VirtualHomeEnv

STECA_MS_PER_STEP = 15.0
FIXTURES = Path(os.environ.get("SPA_GYM_FIXTURES", Path(__file__).resolve().parent.parent.parent / "shared"
                                / "fixtures")) / "virtualhome"


def wrap(env: gym.Env) -> gym.Env:
    return gym.wrappers.TimeLimit(gym.wrappers.OrderEnforcing(env), 40)


def expert_rates(env: gym.Env, steps: int, seed: int) -> tuple[float, float]:
    """(env steps per second, expert calls per second) over expert-played episodes."""
    env.reset(seed=seed)
    step_time = expert_time = 0.0
    for _ in range(steps):
        start = time.perf_counter()
        action = env.unwrapped.expert_action()
        expert_time += time.perf_counter() - start
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        step_time += time.perf_counter() - start
        if terminated or truncated:
            env.reset()
    return steps / step_time, steps / expert_time


def resets_per_s(indices: list[int]) -> float:
    env = wrap(VirtualHomeEnv(split="train"))
    start = time.perf_counter()
    for index in indices:
        env.reset(options={"task_index": index})
    return len(indices) / (time.perf_counter() - start)


def scene1_env() -> gym.Env | None:
    path = FIXTURES / "454_2.json.gz"
    if not path.exists():
        return None
    with gzip.open(path) as file:
        record = json.load(file)
    program = {"title": record["title"], "description": record["description"], "script": record["script"]}
    return wrap(VirtualHomeEnv(graph=record["initial_graph"], program=program))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--resets", type=int, default=200)
    args = parser.parse_args()

    env = wrap(VirtualHomeEnv(split="train"))
    null = wrap(NullEnv())
    random_runs = [random_steps_per_s(env, args.steps, seed) for seed in range(args.runs)]
    null_runs = [random_steps_per_s(null, args.steps, seed) for seed in range(args.runs)]
    expert_runs = [expert_rates(env, args.steps // 5, seed) for seed in range(args.runs)]
    cold = [resets_per_s(list(range(run * args.resets, (run + 1) * args.resets))) for run in range(args.runs)]
    warm_indices = list(range(25)) * (args.resets // 25 + 1)  # within the env's cache of 32 parsed tasks
    warm = [resets_per_s(warm_indices[: args.resets]) for _ in range(args.runs)]
    random_rate, null_rate = statistics.median(random_runs), statistics.median(null_runs)
    result = {
        "env": "SPA-VirtualHome-v0",
        "runs": args.runs,
        "steps_per_s_random": round(random_rate),
        "steps_per_s_expert": round(statistics.median(rate for rate, _ in expert_runs)),
        "expert_calls_per_s": round(statistics.median(rate for _, rate in expert_runs)),
        "baseline_steps_per_s": round(null_rate),
        "step_cost_ratio": round(null_rate / random_rate, 2),
        "resets_per_s_cold": round(statistics.median(cold), 1),
        "ms_per_reset_cold": round(1000 / statistics.median(cold), 3),
        "resets_per_s_warm": round(statistics.median(warm), 1),
        "reference_steca_env": {"ms_per_step_scene1": STECA_MS_PER_STEP, "simulator_ms_per_line": 0.56},
    }
    scene1 = scene1_env()
    if scene1 is not None:
        scene1_rate = statistics.median(random_steps_per_s(scene1, args.steps // 5, seed) for seed in range(args.runs))
        result["steps_per_s_scene1"] = round(scene1_rate)
        result["speedup_vs_steca_env_scene1"] = round(scene1_rate * STECA_MS_PER_STEP / 1000, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
