"""What SPA's dense rewards cost: one-pass scoring vs re-encoding, per-step cost with the KV cache. JSON.

On 40-step SPA-ALFWorld-v0 episodes (random admissible commands, no step limit hit early) with
the tiny CPU estimator (or ``--backbone PATH``):
  one_pass_ms           scoring a whole trajectory in one forward pass
  prefix_reencode_ms    the baseline: re-encoding the prefix for every step (O(T^2) tokens)
  speedup               prefix_reencode_ms / one_pass_ms   (target >= 10)
  wrapper_step_ms_1 / wrapper_step_ms_40
                        SPARewardWrapper's own cost (env step excluded) at step 1 and at step 40
  step40_over_step1     their ratio (target <= 1.5: flat, thanks to the KV cache)
  tokens_per_s          estimator forward throughput on batches of 8 trajectories
  vector_8_step_ms / single_8_step_ms
                        one step of 8 episodes: batched (SPARewardVectorWrapper's BatchScorer) vs
                        8 single-episode scorers one after the other, and their ratio
Medians over ``--runs`` episodes.

    python3 benchmarks/spa_overhead.py [--runs 5] [--backbone PATH] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import gymnasium as gym
import torch

import spa_gym  # noqa: F401
from spa_gym.data import Trajectory
from spa_gym.progress import ProgressEstimator
from spa_gym.progress.batch_scorer import BatchScorer, EpisodeScorer
from spa_gym.training import tiny_model_path


def random_episode(seed: int, steps: int = 40) -> Trajectory:
    env = gym.make("SPA-ALFWorld-v0", max_episode_steps=steps)
    obs, info = env.reset(seed=seed)
    walk = Trajectory("SPA-ALFWorld-v0", info["task_id"], info["task"], obs)
    rng = random.Random(seed)
    while len(walk.steps) < steps:
        action = rng.choice([a for a in info["admissible_actions"] if not a.startswith(("put", "move"))])
        obs, reward, terminated, truncated, info = env.step(action)
        walk.add_step(action, obs, reward, info["grounded"])
        if terminated:
            break
    return walk


def prefix(walk: Trajectory, n: int) -> Trajectory:
    cut = Trajectory(walk.env_id, walk.task_id, walk.task, walk.initial_observation, walk.steps[:n])
    return cut


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backbone", default=None, help="checkpoint folder (default: the tiny CPU model)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(1) if args.device == "cpu" else None
    estimator = ProgressEstimator.from_backbone(args.backbone or tiny_model_path()).to(args.device).eval()
    walks = [random_episode(seed) for seed in range(args.runs)]
    estimator.score(walks[:1])  # warm up

    one_pass = [timed(lambda w=w: estimator.score([w])) for w in walks]
    reencode = [timed(lambda w=w: [estimator.score([prefix(w, n)]) for n in range(1, len(w.steps) + 1)]) for w in walks]

    step_costs: list[list[float]] = []
    for walk in walks:
        scorer = EpisodeScorer(estimator, walk.task, walk.initial_observation)
        costs = []
        for step in walk.steps:
            costs.append(timed(lambda a=step.action, s=scorer: s.score_action(a)))
            scorer.observe(step.observation)
        step_costs.append(costs)
    first = statistics.median(c[0] for c in step_costs)
    last = statistics.median(c[-1] for c in step_costs)

    encoded = estimator.encode(walks * 2)[:8]
    tokens = sum(len(e.input_ids) for e in encoded)
    with torch.no_grad():
        throughput = [tokens / (timed(lambda: estimator(encoded)) / 1000) for _ in range(args.runs)]

    rows = [random_episode(100 + seed, steps=20) for seed in range(8)]
    batched = BatchScorer(estimator, len(rows))
    singles = [EpisodeScorer(estimator, w.task, w.initial_observation) for w in rows]
    for row, walk in enumerate(rows):
        batched.start(row, walk.task, walk.initial_observation)
    vector_ms, single_ms = [], []
    for t in range(min(len(w.steps) for w in rows)):
        actions = {row: walk.steps[t].action for row, walk in enumerate(rows)}
        vector_ms.append(timed(lambda a=actions: batched.score_actions(a)))
        single_ms.append(timed(lambda a=actions: [s.score_action(a[row]) for row, s in enumerate(singles)]))
        for row, walk in enumerate(rows):
            batched.observe(row, walk.steps[t].observation)
            singles[row].observe(walk.steps[t].observation)

    result = {
        "backbone": args.backbone or "tiny",
        "device": args.device,
        "episodes": len(walks),
        "steps_per_episode": statistics.median(len(w.steps) for w in walks),
        "one_pass_ms": round(statistics.median(one_pass), 2),
        "prefix_reencode_ms": round(statistics.median(reencode), 2),
        "speedup": round(statistics.median(reencode) / statistics.median(one_pass), 1),
        "wrapper_step_ms_1": round(first, 3),
        "wrapper_step_ms_40": round(last, 3),
        "step40_over_step1": round(last / first, 2),
        "tokens_per_s": round(statistics.median(throughput)),
        "vector_8_step_ms": round(statistics.median(vector_ms), 3),
        "single_8_step_ms": round(statistics.median(single_ms), 3),
        "vector_speedup": round(statistics.median(single_ms) / statistics.median(vector_ms), 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
