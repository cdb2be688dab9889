"""The expert on every task of every split of the generated ALFWorld suite. Prints JSON.

For each split and grammar: how many tasks the expert wins within the 40-step limit, plan
lengths (mean, max) and the time taken. The whole suite (3,827 tasks) takes about a minute.

    python3 benchmarks/expert_suite.py [--grammar 2.1.1] [--limit 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from tqdm import tqdm

from spa_gym.envs.alfworld import SPLITS, Episode, TaskSuite, expert_action


def run_split(split: str, grammar: str, limit: int) -> dict:
    suite = TaskSuite(split, grammar)
    lengths, failures = [], []
    start = time.perf_counter()
    for index in tqdm(range(len(suite)), desc=f"{split} ({grammar})", leave=False):
        episode = Episode(suite.game(index))
        assert not episode.goal_satisfied(), f"{suite.task_id(index)} is won at reset"
        steps = 0
        while not episode.won and steps < limit:
            command = expert_action(episode)
            if command is None:
                break
            episode.step(command)
            steps += 1
        if episode.won:
            lengths.append(steps)
        else:
            failures.append(suite.task_id(index))
    return {
        "tasks": len(suite),
        "won": len(lengths),
        "failures": failures[:20],
        "mean_steps": round(statistics.mean(lengths), 2) if lengths else None,
        "max_steps": max(lengths, default=None),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grammar", default="2.1.1", choices=["2.1.1", "2.1.3"])
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    result = {split: run_split(split, args.grammar, args.limit) for split in SPLITS}
    print(json.dumps({"grammar": args.grammar, "limit": args.limit, "splits": result}, indent=2))


if __name__ == "__main__":
    main()
