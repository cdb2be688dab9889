"""How fast SPA-WebShop steps, builds its catalog and index, and how much memory env copies take. Prints JSON.

Figures (median of ``--runs`` runs where repeated; one process):
  steps_per_s[<n>]          random admissible actions on an n-product catalog (the search placeholder
                            filled with 1-5 words of the instruction, so searches hit the index)
  baseline_steps_per_s      a null TextEnv (constant answers) in the same loop
  step_cost_ratio[<n>]      baseline_steps_per_s / steps_per_s[<n>]: null-env steps one WebShop step costs
  catalog_s[<n>]            catalog: generated and written (cold), read from the disk cache (cached)
  index_s[<n>]              BM25 index: built and saved (cold), loaded from the disk cache (cached)
  rss_mb                    resident memory of a fresh process: before any env, with 1 env, with 8 envs
                            (the largest size; caches warm)
  memory_ratio_8_vs_1       rss with 8 envs / rss with 1 env (target < 1.2)
Targets: >= 2,000 steps/s at 100,000 products; 8 envs < 1.2x the memory of one. The catalog and index
caches go to a temporary SPA_GYM_HOME, so cold figures are really cold.

    python3 benchmarks/webshop_speed.py [--runs 5] [--steps 5000] [--sizes 1000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from common import NullEnv, random_steps_per_s


def rss_mb() -> float:
    """Resident set size of this process in MB (psutil if installed, else /proc/self/statm)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 1e6
    except ImportError:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def search_or_click(rng: random.Random, info: dict) -> str:
    """A random admissible action; the search placeholder becomes 1-5 words of the instruction."""
    from spa_gym.envs.webshop.session import SEARCH_PLACEHOLDER

    action = rng.choice(info["admissible_actions"] or ["click[nothing]"])
    if action == SEARCH_PLACEHOLDER:
        words = info["task"].split()
        action = f"search[{' '.join(rng.sample(words, min(len(words), rng.randint(1, 5))))}]"
    return action


def steps_per_s(env, steps: int, seed: int) -> float:
    return random_steps_per_s(env, steps, seed, search_or_click)


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def memory(size: int) -> dict[str, float]:
    """RSS before any env, with 1 env and with 8 envs of ``size`` products (run in a fresh process)."""
    from spa_gym.envs.webshop.env import WebShopEnv

    start = rss_mb()
    envs = [WebShopEnv(split="train", num_products=size)]
    steps_per_s(envs[0], 200, seed=0)
    one = rss_mb()
    envs += [WebShopEnv(split="train", num_products=size) for _ in range(7)]
    for seed, env in enumerate(envs):
        steps_per_s(env, 200, seed=seed)
    return {"start": round(start, 1), "1_env": round(one, 1), "8_envs": round(rss_mb(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--memory-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_only:
        print(json.dumps(memory(args.memory_only)))
        return
    os.environ["SPA_GYM_HOME"] = tempfile.mkdtemp(prefix="spa_gym_bench_")

    from spa_gym.envs.webshop import catalog as catalog_module
    from spa_gym.envs.webshop.env import WebShopEnv
    from spa_gym.envs.webshop.search import SearchIndex

    report: dict[str, object] = {"runs": args.runs, "steps": args.steps, "sizes": args.sizes}
    baseline = statistics.median(steps_per_s(NullEnv(), args.steps, seed) for seed in range(args.runs))
    report["baseline_steps_per_s"] = round(baseline)
    for key in ("steps_per_s", "step_cost_ratio", "catalog_s", "index_s"):
        report[key] = {}
    for size in args.sizes:
        cold_catalog, catalog = timed(partial(catalog_module.generated_catalog, size))
        catalog_module._CACHE.clear()  # the next call reads the disk cache, as a new process would
        cached_catalog, catalog = timed(partial(catalog_module.generated_catalog, size))
        report["catalog_s"][size] = {"cold": round(cold_catalog, 2), "cached": round(cached_catalog, 2)}
        cache_dir = Path(os.environ["SPA_GYM_HOME"]) / "index-bench"
        cold_index, _ = timed(partial(SearchIndex.shared, f"bench-cold-{size}", catalog.products, cache_dir))
        cached_index, _ = timed(partial(SearchIndex.shared, f"bench-cached-{size}", catalog.products, cache_dir))
        report["index_s"][size] = {"cold": round(cold_index, 2), "cached": round(cached_index, 2)}
        env = WebShopEnv(split="train", num_products=size)
        rates = [steps_per_s(env, args.steps, seed) for seed in range(args.runs)]
        report["steps_per_s"][size] = round(statistics.median(rates))
        report["step_cost_ratio"][size] = round(baseline / statistics.median(rates), 1)
    # Memory in a fresh process (this one holds every catalog built above); caches are warm by now.
    size = max(args.sizes)
    command = [sys.executable, __file__, "--memory-only", str(size)]
    rss = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    report["rss_mb"] = {**rss, "catalog_size": size}
    report["memory_ratio_8_vs_1"] = round(rss["8_envs"] / rss["1_env"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
