"""Pool the evaluations of several ``spa-gym run`` folders (seeds) and compare their agents task by task.

Each run evaluates its agents greedily on the same first tasks of the evaluation split, so two
agents can be compared on the very same tasks: a task that only one of them won is evidence for
it. The exact two-sided sign test on those discordant tasks (McNemar's exact test) says how often
a difference at least that lopsided arises when neither agent is better.

:func:`plot_learning_curves` draws every run's PPO training curves on one figure.

Example:
    >>> sign_test(6, 0)
    0.03125
    >>> sign_test(6, 6)
    1.0
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .agents.rollout import Evaluation, evaluate
from .data.trajectories import Trajectory, read_trajectories
from .pipeline import AGENTS


def sign_test(only_first: int, only_second: int) -> float:
    """Two-sided exact binomial p-value of ``only_first`` against ``only_second`` at odds 1:1."""
    n = only_first + only_second
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_first, only_second) + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass
class Comparison:
    """Two agents on the same tasks: how many only the first won, only the second, and the p-value."""

    first: str
    second: str
    only_first: int
    only_second: int
    tasks: int

    @property
    def p_value(self) -> float:
        return sign_test(self.only_first, self.only_second)


def _run_label(folder: Path) -> str:
    """What must match for runs to be pooled: env, preset, model and evaluation split."""
    config = json.loads((folder / "config.json").read_text())
    label = f"{config['env_id']}, preset {config['preset']}"
    if config.get("model"):
        label += f", model {config['model']}"
    if config.get("eval_split"):
        label += f", evaluated on {config['eval_split']}"
    return label


def load_evaluations(runs: Sequence[str | os.PathLike[str]]) -> dict[str, dict[str, list[Trajectory]]]:
    """``{agent: {run folder: its evaluation episodes}}`` for the finished evaluations of ``runs``,
    which must share env, preset, model and evaluation split."""
    folders = [Path(run) for run in runs]
    if not folders:
        raise ValueError("no run folders to compare")
    labels = {}
    for folder in folders:
        if not (folder / "config.json").is_file():
            raise ValueError(f"{folder} is not a spa-gym run folder (no config.json)")
        labels[folder] = _run_label(folder)
    if len(set(labels.values())) > 1:
        raise ValueError("the runs differ in env, preset, model or eval split: "
                         + "; ".join(f"{folder}: {label}" for folder, label in labels.items()))
    evaluations: dict[str, dict[str, list[Trajectory]]] = {agent: {} for agent in AGENTS}
    for folder in folders:
        for agent in AGENTS:
            if (folder / f"eval-{agent}.done").is_file():
                evaluations[agent][str(folder)] = read_trajectories(folder / f"eval-{agent}.jsonl")
    return evaluations


def compare(first: dict[str, list[Trajectory]], second: dict[str, list[Trajectory]],
            names: tuple[str, str]) -> Comparison:
    """Task by task, over the runs both agents were evaluated in."""
    only_first = only_second = tasks = 0
    for run in first.keys() & second.keys():
        won_second = {t.task_id: t.won for t in second[run]}
        for trajectory in first[run]:
            if trajectory.task_id in won_second:
                tasks += 1
                only_first += trajectory.won and not won_second[trajectory.task_id]
                only_second += won_second[trajectory.task_id] and not trajectory.won
    return Comparison(names[0], names[1], only_first, only_second, tasks)


def comparison_report(runs: Sequence[str | os.PathLike[str]]) -> str:
    """A markdown report: each agent pooled over the runs (and its success per run), then each pair
    of agents compared task by task."""
    evaluations = load_evaluations(runs)
    pooled: dict[str, Evaluation] = {agent: evaluate([t for ts in by_run.values() for t in ts])
                                     for agent, by_run in evaluations.items() if by_run}
    lines = [f"# {len(runs)} runs: {_run_label(Path(runs[0]))}", "",
             "Pooled over the runs; 95% intervals (Wilson for rates).", "",
             "| agent | episodes | success rate | per run | average reward | grounding accuracy |",
             "|---|---|---|---|---|---|"]
    for agent, ev in pooled.items():
        per_run = ", ".join(f"{sum(t.won for t in ts)}/{len(ts)}" for ts in evaluations[agent].values())
        lines.append(f"| {AGENTS[agent]} | {ev.episodes} | {ev.success_rate} | {per_run} | {ev.average_reward} "
                     f"| {ev.grounding_accuracy} |")
    lines += ["", "Task by task (exact two-sided sign test on the tasks only one agent won):", "",
              "| agents | tasks | only the first won | only the second won | p |", "|---|---|---|---|---|"]
    names = list(pooled)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            pair = compare(evaluations[second], evaluations[first], (second, first))
            lines.append(f"| {AGENTS[second]} vs {AGENTS[first]} | {pair.tasks} | {pair.only_first} | "
                         f"{pair.only_second} | {pair.p_value:.3f} |")
    return "\n".join(lines) + "\n"


def plot_learning_curves(runs: Sequence[str | os.PathLike[str]], path: str | os.PathLike[str],
                         title: str | None = None) -> Path:
    """Training success rate and grounding accuracy per PPO iteration (against env steps) of every
    run, thin lines per run and their mean (one run: its own line), for each reward scheme; saved as
    an image at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    load_evaluations(runs)  # the same checks: runs of one protocol
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for colour, rewards in zip(("tab:blue", "tab:orange"), ("sparse", "spa")):
        histories = [json.loads((Path(run) / f"ppo-{rewards}" / "ppo_history.json").read_text())["history"]
                     for run in runs if (Path(run) / f"ppo-{rewards}" / "ppo_history.json").is_file()]
        if not histories:
            continue
        label = AGENTS[f"ppo-{rewards}"] + (f" (mean of {len(histories)})" if len(histories) > 1 else "")
        for ax, key in zip(axes, ("success_rate", "grounding")):
            if len(histories) > 1:
                for history in histories:
                    ax.plot([h["env_steps"] for h in history], [h[key] for h in history], color=colour, alpha=0.3,
                            lw=1)
            length = min(len(h) for h in histories)
            steps = [sum(h[i]["env_steps"] for h in histories) / len(histories) for i in range(length)]
            mean = [sum(h[i][key] for h in histories) / len(histories) for i in range(length)]
            ax.plot(steps, mean, color=colour, marker="o", lw=2, label=label)
    for ax, label in zip(axes, ("training success rate", "training grounding accuracy")):
        ax.set_xlabel("env steps")
        ax.set_ylabel(label)
        ax.legend()
    fig.suptitle(title or _run_label(Path(runs[0])))
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
