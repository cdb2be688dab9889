"""The credit-assignment arena: each credit method at the same env-step budget, same model, seeds.

Prints JSON, writes a markdown table and a plot.

Protocol (defaults; all seeded):
  envs       SPA-ALFWorld-v0: sb3_learning's suite (the first 4 train tasks whose expert plan is
             3-4 commands; a random policy wins 1 episode in 100), 20-step limit.
             SPA-WebShop-v0: its search page offers only the placeholder "search[<query>]", which
             searches for the word "query" (0 results), so an index-picking agent could never
             shop. The arena plays a subclass (registered as ARENA_WEBSHOP) whose search bar
             offers one concrete query instead: the instruction without its price clause (what
             the expert tries first; the agent sees the instruction, so nothing leaks). Suite: the
             first --webshop-tasks (4) train goals whose expert, with that query, wins in 3-4
             actions (search, the product, at most one option, buy): goals 2, 3, 4, 7, which a
             random policy wins 2 times in 100 (1,000 episodes); 10-step limit (SPA-RL's).
             SPA-VirtualHome-v0: the first 4 train tasks with a 3-4 command expert plan, 20-step
             limit (random play wins 2 in 100)
  agent      sb3-contrib MaskablePPO, MlpPolicy, hashed text observations, admissible commands as
             Discrete(64) with masks, 4 DummyVecEnv copies, n_steps 256, batch 256, ent_coef 0.01
             (sb3_learning's); every method trains the same network with the same settings
  methods    turn-critic: plain MaskablePPO on sparse rewards, its learned critic over turns (GAE);
             spa: plain MaskablePPO on SPARewardWrapper(alpha --alpha 0.2, beta 0) with
             sb3_learning's "spa-prior" estimator (its best setting; built once in --work and
             reused; ALFWorld only: the estimator recipe is ALFWorld's);
             grpo, rloo, gigpo, mc-prm: make_credit_ppo (critic-free advantages, vf_coef 0; the 4
             copies play the same task sequence, task_seed = seed, so each rollout holds groups;
             mc-prm: --mc-rollouts 2 continuations of the current policy from each saved state)
  budget     --budget env steps per run (30,000), counting mc-prm's extra rollout steps: training
             goes one rollout (1,024 steps) at a time until policy steps + extra steps >= budget
  eval       success of the sampled policy: 50 episodes before training, after the rollout that
             crosses each multiple of --eval-every (10,000) budget steps and after the last one;
             100 episodes at the end; eval steps are outside the budget. The mean curve at 0, 10k,
             20k, 30k takes each seed's first evaluation at or past the point (mc-prm's rollouts
             jump ~20k steps at a time). A uniform policy over the live actions is the baseline
  cost       train wall seconds (eval excluded), seconds per rollout iteration (median), policy
             evaluations per iteration (policy steps + mc-prm's rollout policy calls), extra steps
  credit     (ALFWorld, no training) G = 8 noisy-expert (epsilon 0.5) episodes of each of 20
             valid_seen tasks (every 7th), 15-step limit, with state keys and a saved state before
             every step; each method's per-step credit (grpo, rloo, gigpo as they are; mc-prm with
             Monte Carlo values of --auc-mc-rollouts 4 noisy-expert continuations from the saved
             states; sparse and uniform rewards as references) ranked against the ground-truth
             progress labels (the expert's remaining plan got shorter): ROC AUC pooled and within
             trajectories, with the seconds and env steps each method took
Reported: per env and method, final success per seed, mean, ratio to turn-critic, the curve's
means, steps used, cost; the random baseline; the AUC table; wall times. --table writes a markdown
table, --plot the learning curves (one panel per env).

What we found (2 CPU cores, defaults, 20.5 min wall, peak RSS 0.8 GB; success of the sampled
policy over 100 episodes at the end, mean [per seed]; AUC pooled / within trajectories):

  method       ALFWorld              WebShop               VirtualHome           AUC            s/iteration
  turn-critic  0.510 [.44 .49 .60]   0.627 [.67 .69 .52]   0.887 [.94 .98 .74]   0.545 / 0.529  0.51 / 0.91 / 0.63
  spa          0.657 [.62 .66 .69]   -                     -                     -              2.12
  grpo         0.177 [.29 .03 .21]   0.537 [.52 .60 .49]   0.770 [.71 .89 .71]   0.618 / 0.500  0.49 / 0.74 / 0.79
  rloo         0.130 [.17 .01 .21]   0.467 [.43 .52 .45]   0.700 [.71 .66 .73]   0.618 / 0.500  0.53 / 0.79 / 0.73
  gigpo        0.247 [.25 .11 .38]   0.497 [.51 .45 .53]   0.817 [.73 .97 .75]   0.653 / 0.623  0.61 / 0.83 / 0.61
  mc-prm       0.000 [0 0 0]         0.040 [.04 .03 .05]   0.063 [.06 .09 .04]   0.672 / 0.670  9.4 / 6.1 / 11.3

The learned turn-level critic beats every critic-free group method on every env; GiGPO's state
groups beat GRPO on ALFWorld and VirtualHome, not on WebShop. SPA (task-prior estimator, alpha
0.2) leads on ALFWorld with every seed above every turn-critic seed, at 4x the seconds per
iteration. mc-prm's credit ranks progress best, but its rollouts (~20k env steps per 1,024-step
rollout) leave it 2-3 updates within the budget: it stays at random play. Uniform rewards score
AUC 0.619 / 0.500 (the within-trajectory AUC of any per-episode constant is 0.5).

    python3 benchmarks/credit_arena.py [--envs SPA-ALFWorld-v0 SPA-WebShop-v0] [--methods ...]
        [--seeds 0 1 2] [--budget 30000] [--eval-every 10000] [--work DIR]
        [--table credit_arena.md] [--plot credit_arena.png] [--quick]
        [--llm-model RUN/sft/merged --llm-estimator RUN/estimator/best]   # the LLM view (credit_arena_llm.py)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from credit_arena_llm import add_arguments as add_llm_arguments  # benchmarks/ is on sys.path as a script
from credit_arena_llm import llm_view
from sb3_contrib import MaskablePPO
from sb3_learning import build_estimators, suite_tasks
from stable_baselines3.common.vec_env import DummyVecEnv

import spa_gym  # noqa: F401
from spa_gym.credit import MonteCarloValues, get_credit_method
from spa_gym.data.policies import NoisyExpertPolicy
from spa_gym.data.trajectories import Trajectory
from spa_gym.envs.alfworld import Episode, TaskSuite, progress_labels
from spa_gym.envs.webshop.env import WebShopEnv
from spa_gym.envs.webshop.expert import query_candidates
from spa_gym.envs.webshop.session import SEARCH_PLACEHOLDER
from spa_gym.integrations.sb3 import make_sb3_env, success_rate
from spa_gym.integrations.sb3_credit import make_credit_ppo
from spa_gym.progress import ProgressEstimator, SPAReward
from spa_gym.progress.metrics import ranking_auc, within_trajectory_auc

ALFWORLD, WEBSHOP, VIRTUALHOME = "SPA-ALFWorld-v0", "SPA-WebShop-v0", "SPA-VirtualHome-v0"
ENVS = (ALFWORLD, WEBSHOP, VIRTUALHOME)
METHODS = ("turn-critic", "spa", "grpo", "rloo", "gigpo", "mc-prm")
#: The id the arena builds for SPA-WebShop-v0 (see the module docstring).
ARENA_WEBSHOP = "SPA-WebShop-InstructionSearch-v0"
#: sb3_learning's MaskablePPO settings, for every method.
N_ENVS, N_STEPS, BATCH_SIZE, ENT_COEF = 4, 256, 256, 0.01
#: sb3_learning's SPA estimator scheme (the task prior recipe) and its suite's plan lengths.
SPA_SCHEME = "spa-prior"
PLAN_LENGTH = (3, 4)
#: Why the other envs have no spa run.
SPA_SKIPPED = "spa runs on ALFWorld only: sb3_learning's estimator recipe (walks, expert transcripts) is ALFWorld's"
#: What the arena changes in an env, for the records.
NOTES = {WEBSHOP: f"built as {ARENA_WEBSHOP}: the search bar offers search[<the instruction without its price "
                  "clause>] instead of the placeholder search[<query>], which finds nothing"}
#: Credit quality: the references scored beside the trained methods.
AUC_METHODS = ("sparse", "uniform", "grpo", "rloo", "gigpo", "mc-prm")


class InstructionSearchWebShop(WebShopEnv):
    """SPA-WebShop-v0 whose search bar offers ``search[<the instruction without its price clause>]``
    in place of the placeholder, so an agent that only picks admissible actions can shop."""

    def admissible_actions(self) -> list[str]:
        actions = super().admissible_actions()
        if SEARCH_PLACEHOLDER not in actions:
            return actions
        query = f"search[{query_candidates(self.goal, {})[0]}]"
        return [query if action == SEARCH_PLACEHOLDER else action for action in actions]


def register_arena_envs() -> None:
    """Register ARENA_WEBSHOP (idempotent)."""
    if ARENA_WEBSHOP not in gym.registry:
        gym.register(id=ARENA_WEBSHOP, entry_point=InstructionSearchWebShop, max_episode_steps=10)


@dataclass
class Suite:
    """An env of the arena: the id named, the id built, its tasks and step limit."""

    env: str
    build_id: str
    tasks: list[int]
    limit: int

    def make(self, task_seed: int | None = None, **kwargs: Any):
        return make_sb3_env(self.build_id, tasks=self.tasks, task_seed=task_seed, max_episode_steps=self.limit,
                            **kwargs)


def expert_suite(build_id: str, count: int, shortest: int, longest: int) -> list[int]:
    """The first ``count`` tasks (default split) whose expert wins in ``shortest``..``longest``
    commands, each of them among the admissible actions (so an index-picking agent can replay it)."""
    env = gym.make(build_id)
    tasks: list[int] = []
    for index in range(env.unwrapped.num_tasks()):
        _, info = env.reset(options={"task_index": index})
        steps, replayable = 0, True
        while steps <= longest and (action := env.unwrapped.expert_action()) is not None:
            replayable = replayable and action in info["admissible_actions"]
            _, _, terminated, truncated, info = env.step(action)
            steps += 1
            if terminated or truncated:
                break
        if info["won"] and replayable and shortest <= steps <= longest:
            tasks.append(index)
            if len(tasks) == count:
                break
    env.close()
    return tasks


def build_suite(env: str, args: argparse.Namespace) -> Suite:
    if env == ALFWORLD:
        return Suite(env, env, suite_tasks(args.alfworld_tasks, *PLAN_LENGTH), 20)
    if env == WEBSHOP:
        register_arena_envs()
        return Suite(env, ARENA_WEBSHOP, expert_suite(ARENA_WEBSHOP, args.webshop_tasks, *PLAN_LENGTH), 10)
    if env == VIRTUALHOME:
        return Suite(env, env, expert_suite(env, args.virtualhome_tasks, *PLAN_LENGTH), 20)
    raise ValueError(f"unknown env {env!r}; expected one of {ENVS}")


# -- training ------------------------------------------------------------------------------------
def build_model(method: str, suite: Suite, seed: int, args: argparse.Namespace,
                estimator: ProgressEstimator | None) -> MaskablePPO:
    ppo = {"n_steps": args.n_steps, "batch_size": BATCH_SIZE, "ent_coef": ENT_COEF, "seed": seed}
    if method == "turn-critic":
        return MaskablePPO("MlpPolicy", DummyVecEnv([suite.make(seed)] * N_ENVS), **ppo)
    if method == "spa":
        thunk = suite.make(seed, estimator=estimator, reward=SPAReward(alpha=args.alpha, beta=0.0))
        return MaskablePPO("MlpPolicy", DummyVecEnv([thunk] * N_ENVS), **ppo)
    return make_credit_ppo(method, suite.build_id, tasks=suite.tasks, n_envs=N_ENVS, max_episode_steps=suite.limit,
                           task_seed=seed, mc_rollouts=args.mc_rollouts, **ppo)


def recorded(model: MaskablePPO, count: str) -> int:
    """A count of the model's EpisodeRecorder (``extra_env_steps``, ``extra_policy_calls``); 0 without one."""
    recorder = getattr(model.rollout_buffer, "recorder", None)
    return int(getattr(recorder, count)) if recorder is not None else 0


def train_run(method: str, suite: Suite, seed: int, args: argparse.Namespace,
              estimator: ProgressEstimator | None = None) -> dict[str, Any]:
    """One run: rollouts until policy + extra env steps reach the budget, evaluated on the way."""
    model = build_model(method, suite, seed, args, estimator)
    make_eval = suite.make()
    chunk = args.n_steps * N_ENVS
    curve = [{"steps": 0, "success": success_rate(model, make_eval, args.curve_episodes)}]
    next_eval, used = args.eval_every, 0
    iteration_seconds: list[float] = []
    mc_calls: list[int] = []
    while used < args.budget:
        calls = recorded(model, "extra_policy_calls")
        start = time.perf_counter()
        model.learn(chunk, reset_num_timesteps=False)
        iteration_seconds.append(time.perf_counter() - start)
        mc_calls.append(recorded(model, "extra_policy_calls") - calls)
        used = model.num_timesteps + recorded(model, "extra_env_steps")
        if used >= next_eval or used >= args.budget:
            curve.append({"steps": used, "success": success_rate(model, make_eval, args.curve_episodes)})
            while next_eval <= used:
                next_eval += args.eval_every
    final = success_rate(model, make_eval, args.final_episodes)
    model.get_env().close()
    recorder = getattr(model.rollout_buffer, "recorder", None)
    return {
        "seed": seed,
        "success": final,
        "curve": curve,
        "policy_steps": int(model.num_timesteps),
        "extra_env_steps": recorded(model, "extra_env_steps"),
        "finished_episodes": recorder.finished_episodes if recorder is not None else None,
        "iterations": len(iteration_seconds),
        "train_seconds": round(sum(iteration_seconds), 2),
        "seconds_per_iteration": iteration_seconds,
        "mc_policy_calls": sum(mc_calls),
        "mc_policy_calls_per_iteration": mc_calls,
    }


def curve_targets(budget: int, every: int) -> list[int]:
    """The budget points the mean curve reports: 0, every multiple of ``every`` below the budget, the budget."""
    return [0, *range(every, budget, every), budget]


def mean_curve(runs: list[dict], targets: Sequence[int]) -> list[dict[str, Any]]:
    """At each target, the mean over seeds of each run's first evaluation at or past it (a run's steps
    jump a rollout at a time, mc-prm's by its extra steps too: "steps" is the mean actually used).

    Example:
        >>> runs = [{"curve": [{"steps": 0, "success": 0.0}, {"steps": 1024, "success": 0.5}]},
        ...         {"curve": [{"steps": 0, "success": 0.0}, {"steps": 3072, "success": 1.0}]}]
        >>> mean_curve(runs, [0, 1000])
        [{'at': 0, 'steps': 0, 'success': 0.0}, {'at': 1000, 'steps': 2048, 'success': 0.75}]
    """
    out = []
    for at in targets:
        points = [next((p for p in run["curve"] if p["steps"] >= at), None) for run in runs]
        if all(points):
            out.append({"at": at, "steps": round(statistics.mean(p["steps"] for p in points)),
                        "success": round(statistics.mean(p["success"] for p in points), 3)})
    return out


def summarise(runs: list[dict], chunk: int, baseline: float | None, targets: Sequence[int]) -> dict[str, Any]:
    mean = statistics.mean(run["success"] for run in runs)
    curve_mean = mean_curve(runs, targets)
    iteration_seconds = [s for run in runs for s in run["seconds_per_iteration"]]
    mc_per_iteration = [c for run in runs for c in run["mc_policy_calls_per_iteration"]]
    return {
        "success_per_seed": [run["success"] for run in runs],
        "success_mean": round(mean, 3),
        "ratio_to_turn_critic": round(mean / baseline, 3) if baseline else None,
        "curve_mean": curve_mean,
        "curves": [run["curve"] for run in runs],
        "steps": {
            "policy_per_seed": [run["policy_steps"] for run in runs],
            "extra_per_seed": [run["extra_env_steps"] for run in runs],
            "used_per_seed": [run["policy_steps"] + run["extra_env_steps"] for run in runs],
        },
        "cost": {
            "train_seconds_per_seed": [run["train_seconds"] for run in runs],
            "train_seconds_mean": round(statistics.mean(run["train_seconds"] for run in runs), 1),
            "seconds_per_iteration_median": round(statistics.median(iteration_seconds), 3),
            "iterations_per_seed": [run["iterations"] for run in runs],
            "policy_steps_per_iteration": chunk,
            "mc_policy_calls_per_iteration_median": statistics.median(mc_per_iteration),
            "policy_evaluations_per_iteration_median": chunk + statistics.median(mc_per_iteration),
            "extra_env_steps_mean": round(statistics.mean(run["extra_env_steps"] for run in runs)),
        },
    }


# -- credit quality ------------------------------------------------------------------------------
def play_with_states(env: gym.Env, policy: NoisyExpertPolicy, seed: int,
                     task_index: int) -> tuple[Trajectory, list]:
    """One episode with its state keys, and the state saved before each step."""
    policy.reset(seed)
    observation, info = env.reset(seed=seed, options={"task_index": task_index})
    walk = Trajectory(env.spec.id, info["task_id"], info["task"], observation)
    states = []
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy(observation, info)
        states.append(env.unwrapped.clone_state())
        key = info["state_key"]
        observation, reward, terminated, truncated, info = env.step(action)
        walk.add_step(action, observation, reward, info["grounded"], state_key=key)
    walk.won = bool(info["won"])
    return walk, states


def saved_state_values(values: MonteCarloValues, states: list[list], limit: int):
    """mc-prm's value function over the states saved while collecting (in the trajectories' order)."""

    def state_values(trajectories: Sequence[Trajectory]) -> list[list[float]]:
        return [[values(state, limit - t) for t, state in enumerate(saved)] for saved in states]

    return state_values


def credit_quality(tasks: int = 20, group: int = 8, epsilon: float = 0.5, limit: int = 15,
                   mc_rollouts: int = 4, methods: Sequence[str] = AUC_METHODS) -> dict[str, Any]:
    """Each method's per-step credit on groups of noisy-expert episodes of valid_seen tasks, ranked
    against the expert's progress labels (ROC AUC, pooled and within trajectories)."""
    start = time.perf_counter()
    env = gym.make(ALFWORLD, split="valid_seen", max_episode_steps=limit)
    total = env.unwrapped.num_tasks()
    indices = sorted({index * total // tasks for index in range(tasks)})
    policy = NoisyExpertPolicy(env, epsilon=epsilon, seed=0)
    walks, states = [], []
    for task_index in indices:
        for member in range(group):
            walk, saved = play_with_states(env, policy, seed=1000 * task_index + member, task_index=task_index)
            walks.append(walk)
            states.append(saved)
    suite = TaskSuite("valid_seen")
    labels = [progress_labels(Episode(suite.game(suite.index_of(w.task_id))), [s.action for s in w.steps])
              for w in walks]
    steps = sum(len(w.steps) for w in walks)
    result: dict[str, Any] = {
        "tasks": indices, "group": group, "epsilon": epsilon, "step_limit": limit,
        "trajectories": len(walks), "steps": steps, "collect_env_steps": steps,
        "won_share": round(sum(w.won for w in walks) / len(walks), 3),
        "progress_share": round(sum(map(sum, labels)) / sum(map(len, labels)), 3),
        "collect_seconds": round(time.perf_counter() - start, 2),
        "methods": {},
    }
    for name in methods:
        values = None
        if name == "mc-prm":
            scratch = gym.make(ALFWORLD, split="valid_seen")
            rollout_policy = NoisyExpertPolicy(scratch, epsilon=epsilon, seed=1)
            values = MonteCarloValues(scratch, rollout_policy, rollouts=mc_rollouts)
            method = get_credit_method(name, values=saved_state_values(values, states, limit), rollouts=mc_rollouts)
        else:
            method = get_credit_method(name)
        start = time.perf_counter()
        credits = method(walks)
        result["methods"][name] = {
            "auc_pooled": round(ranking_auc(credits, labels), 3),
            "auc_within_trajectory": round(within_trajectory_auc(credits, labels), 3),
            "seconds": round(time.perf_counter() - start, 3),
            "extra_env_steps": values.env_steps if values else 0,
            "policy_calls": values.policy_calls if values else 0,
        }
    return result


# -- reporting -----------------------------------------------------------------------------------
def markdown_table(summary: dict[str, Any]) -> str:
    envs = list(summary["envs"])
    auc = summary.get("credit_quality", {}).get("methods", {})
    short = {env: env.removeprefix("SPA-").removesuffix("-v0") for env in envs}
    header = (["method"] + [f"{short[env]} success mean [per seed]" for env in envs]
              + ["AUC pooled / within", "extra env steps per run (" + " / ".join(short.values()) + ")",
                 "s per iteration (" + " / ".join(short.values()) + ")"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in summary["protocol"]["methods"]:
        row = [method]
        extras, seconds = [], []
        for env in envs:
            entry = summary["envs"][env]["methods"].get(method)
            if entry is None or "skipped" in entry:
                row.append("-")
                extras.append("-")
                seconds.append("-")
                continue
            per_seed = ", ".join(f"{s:.2f}" for s in entry["success_per_seed"])
            row.append(f"{entry['success_mean']:.3f} [{per_seed}]")
            extras.append(str(entry["cost"]["extra_env_steps_mean"]))
            seconds.append(f"{entry['cost']['seconds_per_iteration_median']:.2f}")
        quality = auc.get(method) or (auc.get("sparse") if method == "turn-critic" else None)
        row.append(f"{quality['auc_pooled']:.3f} / {quality['auc_within_trajectory']:.3f}" if quality else "-")
        row += [" / ".join(extras), " / ".join(seconds)]
        lines.append("| " + " | ".join(row) + " |")
    baseline = ", ".join(f"{short[env]} {summary['envs'][env]['random_policy_success']:.2f}" for env in envs)
    lines += ["", f"Random policy success: {baseline}. Budget {summary['protocol']['budget']} env steps per run "
              f"(policy + extra), seeds {summary['protocol']['seeds']}. turn-critic's AUC is that of its sparse "
              "rewards (its critic is trained, not scored here)."]
    for name in ("sparse", "uniform"):
        if name in auc:
            pooled, within = auc[name]["auc_pooled"], auc[name]["auc_within_trajectory"]
            lines.append(f"Reference {name}: AUC {pooled:.3f} / {within:.3f}.")
    return "\n".join(lines) + "\n"


def plot(summary: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = summary["envs"]
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), squeeze=False)
    for ax, (env, entry) in zip(axes[0], envs.items()):
        for method, result in entry["methods"].items():
            if "skipped" in result:
                continue
            means = result["curve_mean"]
            line, = ax.plot([p["steps"] for p in means], [p["success"] for p in means], marker="o",
                            color=f"C{METHODS.index(method)}", label=f"{method} (mean of {len(result['curves'])})")
            for curve in result["curves"]:
                ax.plot([p["steps"] for p in curve], [p["success"] for p in curve], alpha=0.25,
                        color=line.get_color())
        ax.axhline(entry["random_policy_success"], color="grey", linestyle=":", label="random policy")
        ax.set_xlabel("env steps used (policy + extra)")
        ax.set_ylabel("success rate (sampled policy)")
        ax.set_title(f"MaskablePPO credit methods on {env}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# -- main ----------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="*", default=list(ENVS), choices=ENVS,
                        help="SB3 view envs (none: the LLM view alone)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=30_000, help="env steps per run, mc-prm's extra steps included")
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--curve-episodes", type=int, default=50)
    parser.add_argument("--final-episodes", type=int, default=100)
    parser.add_argument("--n-steps", type=int, default=N_STEPS, help="rollout steps per env copy")
    parser.add_argument("--mc-rollouts", type=int, default=2, help="mc-prm's continuations per state in training")
    parser.add_argument("--alpha", type=float, default=0.2, help="spa: weight of the progress term")
    parser.add_argument("--walks", type=int, default=600, help="spa: noisy-expert walks for the estimator")
    parser.add_argument("--work", help="spa: folder of the estimator (reused when present); default: a new temp one")
    parser.add_argument("--alfworld-tasks", type=int, default=4)
    parser.add_argument("--webshop-tasks", type=int, default=4)
    parser.add_argument("--virtualhome-tasks", type=int, default=4)
    parser.add_argument("--auc-tasks", type=int, default=20, help="credit quality: valid_seen tasks (0: skip)")
    parser.add_argument("--auc-group", type=int, default=8)
    parser.add_argument("--auc-mc-rollouts", type=int, default=4)
    parser.add_argument("--table", default="credit_arena.md", help="markdown table path ('' for none)")
    parser.add_argument("--plot", default="credit_arena.png", help="learning-curve figure path ('' for none)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, budget 4096, 20-episode evals")
    add_llm_arguments(parser)
    args = parser.parse_args(argv)
    args.envs, args.methods = list(dict.fromkeys(args.envs)), list(dict.fromkeys(args.methods))
    if args.quick:
        args.seeds, args.budget, args.eval_every = args.seeds[:1], 4096, 2048
        args.curve_episodes = args.final_episodes = 20
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    summary: dict[str, Any] = {
        "protocol": {
            "methods": args.methods, "seeds": args.seeds, "budget": args.budget, "eval_every": args.eval_every,
            "curve_episodes": args.curve_episodes, "final_episodes": args.final_episodes, "n_envs": N_ENVS,
            "n_steps": args.n_steps, "batch_size": BATCH_SIZE, "ent_coef": ENT_COEF,
            "mc_rollouts": args.mc_rollouts, "spa_alpha": args.alpha, "spa_estimator": SPA_SCHEME,
            "spa_envs": [ALFWORLD],
        },
        "envs": {},
    }
    suites = {env: build_suite(env, args) for env in args.envs}
    estimator = None
    if "spa" in args.methods and ALFWORLD in suites:
        start = time.perf_counter()
        work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="spa-arena-"))
        folder = build_estimators(suites[ALFWORLD].tasks, args.walks, [SPA_SCHEME], work)[SPA_SCHEME]
        estimator = ProgressEstimator.from_pretrained(folder).eval()
        summary["spa_estimator"] = {"folder": str(folder), "seconds": round(time.perf_counter() - start, 1)}
    runs: dict[str, dict[str, list[dict]]] = {}
    for env, suite in suites.items():
        start = time.perf_counter()
        entry: dict[str, Any] = {
            "built_as": suite.build_id, "note": NOTES.get(env), "tasks": suite.tasks, "step_limit": suite.limit,
            "random_policy_success": success_rate(None, suite.make(), args.final_episodes),
            "methods": {},
        }
        runs[env] = {}
        for method in args.methods:
            if method == "spa" and env != ALFWORLD:
                continue
            runs[env][method] = [train_run(method, suite, seed, args, estimator) for seed in args.seeds]
        reference = runs[env].get("turn-critic")
        baseline = statistics.mean(run["success"] for run in reference) if reference else None
        for method in args.methods:
            if method in runs[env]:
                entry["methods"][method] = summarise(runs[env][method], args.n_steps * N_ENVS, baseline,
                                                     curve_targets(args.budget, args.eval_every))
            else:
                entry["methods"][method] = {"skipped": SPA_SKIPPED}
        entry["wall_seconds"] = round(time.perf_counter() - start, 1)
        summary["envs"][env] = entry
    if args.llm_model:
        summary["llm"] = llm_view(args, Path(args.llm_out))
    if args.auc_tasks:
        summary["credit_quality"] = credit_quality(args.auc_tasks, args.auc_group, mc_rollouts=args.auc_mc_rollouts)
    summary["wall_seconds"] = round(time.perf_counter() - wall, 1)
    if args.table:
        Path(args.table).write_text(markdown_table(summary))
        summary["table"] = args.table
    if args.plot:
        plot(summary, args.plot)
        summary["plot"] = args.plot
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
