"""The ``spa-gym`` command.

Every command that plays an env takes it as ``--env ENV_ID`` and ``gym.make`` keywords as
``--env-arg KEY=VALUE``; a bad argument or a broken file is one line on stderr and exit code 2.

- ``spa-gym play [--env ID] [--seed N] [--task-id ID]`` plays an env in the terminal. Type a command
  to act; ``/actions`` lists the admissible commands, ``/hint`` asks the env's expert, ``/quit`` (or
  end of input) stops.
- ``spa-gym expert --env ID --out FILE.jsonl [--tasks N]`` records expert episodes (SFT data).
- ``spa-gym collect --env ID --policy expert|random|noisy-expert --episodes N --out FILE.jsonl
  [--epsilon 0.3] [--seed 0]`` plays N episodes with a simple policy and prints a one-line summary.
- ``spa-gym train-estimator --data FILE --out DIR [--recipe spa-rl|prior]`` trains a progress
  estimator on them; the recipe is the one ``spa-gym run --recipe`` uses, and flags override it.
- ``spa-gym run --env ID --preset P --out DIR`` runs the whole pipeline; ``spa-gym compare RUN...``
  pools several runs.
- ``spa-gym convert SRC DST --to FORMAT`` converts trajectories between spa-gym JSONL and the
  field's formats; ``spa-gym replay FILE`` replays them in their env and reports any drift.
- ``spa-gym eval --model M --env ID [--split S] --out FILE.json`` plays every task of a split once,
  greedy, and writes results stamped with the protocol (:mod:`spa_gym.evaluation`).

Example:
    >>> import io, contextlib
    >>> lines = iter(["look", "/quit"])
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     code = main(["play", "--env", "SPA-ALFWorld-v0", "--seed", "1"], input_fn=lambda _: next(lines))
    >>> code, "You are in the middle of a room" in out.getvalue()
    (0, True)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from . import ENV_SPECS, __version__
from .data.formats import FORMATS

HELP_LINE = "Type a command. /actions lists admissible commands, /hint asks the expert, /quit stops."


def _env_kwargs(pairs: Sequence[str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env-arg expects KEY=VALUE, got {pair!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def play(
    env_id: str,
    seed: int | None = None,
    task_id: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    max_steps: int | None = None,
    input_fn: Callable[[str], str] = input,
) -> int:
    """Play one episode of ``env_id`` interactively; returns the exit code."""
    make_kwargs = dict(env_kwargs or {})
    if max_steps is not None:
        make_kwargs["max_episode_steps"] = max_steps
    env = gym.make(env_id, **make_kwargs)
    options = {"task_id": task_id} if task_id is not None else None
    obs, info = env.reset(seed=seed, options=options)
    print(f"[{env_id}] task {info['task_id']}: {info['task']}")
    print(HELP_LINE)
    print()
    print(obs)
    steps, total = 0, 0.0
    while True:
        try:
            command = input_fn("> ")
        except (EOFError, KeyboardInterrupt, RuntimeError):  # RuntimeError: stdin closed
            print()
            break
        if command.strip() == "/quit":
            break
        if command.strip() == "/actions":
            print("\n".join(f"  {a}" for a in info["admissible_actions"]))
            continue
        if command.strip() == "/hint":
            unwrapped = env.unwrapped
            print(f"  expert: {unwrapped.expert_action()}" if unwrapped.has_expert else "  this env has no expert")
            continue
        obs, reward, terminated, truncated, info = env.step(command)
        steps += 1
        total += float(reward)
        print(obs)
        if reward:
            print(f"  (reward {reward:g})")
        if terminated or truncated:
            outcome = "won" if info.get("won") else ("step limit reached" if truncated else "ended")
            print(f"Episode over after {steps} steps: {outcome}, return {total:g}.")
            break
    env.close()
    return 0


def export_expert(env_id: str, out: str, tasks: int | None, env_kwargs: dict[str, Any]) -> int:
    """Record the expert on the env's tasks (all, or the first ``tasks``) into ``out``."""
    from .data import collect_expert_trajectories

    env = gym.make(env_id, **env_kwargs)
    count = env.unwrapped.num_tasks() if tasks is None else tasks
    walks = collect_expert_trajectories(env, range(count), path=out, progress=True)
    won = sum(walk.won for walk in walks)
    print(f"wrote {len(walks)} expert trajectories to {out} ({won} won)")
    return 0


def collect(
    env_id: str, policy_name: str, episodes: int, out: str, epsilon: float, seed: int, env_kwargs: dict[str, Any],
    rollouts_per_task: int = 1,
) -> int:
    """Play ``episodes`` episodes of ``env_id`` with a named policy, append them to ``out``, print a summary."""
    from .data.collect import collect_trajectories
    from .data.policies import make_policy

    env = gym.make(env_id, **env_kwargs)
    policy = make_policy(policy_name, env, epsilon=epsilon, seed=seed)
    walks = collect_trajectories(
        env, policy, episodes, path=out, seed=seed, progress=True, rollouts_per_task=rollouts_per_task
    )
    env.close()
    steps = sum(len(walk.steps) for walk in walks)
    grounded = sum(step.grounded for walk in walks for step in walk.steps)
    won = sum(walk.won for walk in walks)
    count = max(len(walks), 1)
    print(
        f"wrote {len(walks)} {policy_name} episodes of {env_id} to {out}: won {won}/{len(walks)}, "
        f"mean steps {steps / count:.2f}, mean final reward {sum(w.final_reward for w in walks) / count:.3f}, "
        f"grounded {grounded / max(steps, 1):.1%} of {steps} steps"
    )
    return 0


def train_estimator_command(
    data: str, backbone: str, out: str, lora_r: int, args: Any, pretrain: str = "none", pretrain_epochs: int = 4,
    task_prior: bool = False, data_format: str | None = None,
) -> int:
    """Train a progress estimator on a JSONL file of trajectories; the best model lands in ``out/best``.

    ``pretrain`` ("actions" or "all") first fine-tunes the backbone as a language model on the
    same trajectories (see :mod:`spa_gym.progress.pretrain`), saved in ``out/backbone``.
    ``task_prior`` reads c_0 before the first action (see :mod:`spa_gym.progress.estimator`).
    ``data`` may be in any format of :mod:`spa_gym.data.formats` that records outcomes.
    """
    from .data.formats import detect, get_format, load_trajectories
    from .progress import ProgressEstimator, train_estimator
    from .progress.pretrain import pretrain_backbone
    from .training import lora_config, resolve_model

    data_format = data_format or detect(data)
    if not get_format(data_format).rewarded:
        raise ValueError(f"{data}: the {data_format} format records no outcomes, so every trajectory would read "
                         f"as R = 0; rescore it first: spa-gym replay {data} --out rescored.jsonl")
    walks = load_trajectories(data, data_format)
    lora = None
    if lora_r > 0:
        lora = lora_config(lora_r)
    path = resolve_model(backbone, walks[0].env_id if walks else None)
    if pretrain != "none":
        path = pretrain_backbone(path, walks, Path(out) / "backbone", targets=pretrain, epochs=pretrain_epochs)
    estimator = ProgressEstimator.from_backbone(path, lora=lora, seed=args.seed, task_prior=task_prior)
    result = train_estimator(estimator, walks, out, args)
    print(
        f"trained on {len(walks)} trajectories for {result.epochs_run} epochs: best validation MSE "
        f"{result.best_val_mse:.4f} (epoch {result.best_epoch + 1}; variance of R {result.reward_variance:.4f}); "
        f"saved to {out}/best"
    )
    return 0


def _add_env_arg(parser: argparse.ArgumentParser, example: str) -> None:
    parser.add_argument(
        "--env-arg", action="append", default=[], metavar="KEY=VALUE",
        help=f"keyword argument for gym.make, e.g. {example} (repeatable)",
    )


def _add_env(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    parser.add_argument("--env", dest="env_id", default=default, required=default is None, choices=sorted(ENV_SPECS),
                        metavar="ENV_ID",
                        help=f"one of {sorted(ENV_SPECS)}" + (f" (default {default})" if default else ""))


def _add_recipe(parser: argparse.ArgumentParser, *aliases: str) -> None:
    parser.add_argument("--recipe", *aliases, dest="recipe", default="spa-rl",
                        help="estimator recipe: spa-rl (SPA-RL's loss, the default) or prior (task prior + "
                             "prefix-value loss, linear decay); see spa_gym.progress.recipes")


# -- one handler per command ------------------------------------------------------------------------

def _play_command(args: argparse.Namespace) -> int:
    return play(args.env_id, args.seed, args.task_id, _env_kwargs(args.env_arg), args.max_steps, args.input_fn)


def _expert_command(args: argparse.Namespace) -> int:
    return export_expert(args.env_id, args.out, args.tasks, _env_kwargs(args.env_arg))


def _collect_command(args: argparse.Namespace) -> int:
    return collect(args.env_id, args.policy, args.episodes, args.out, args.epsilon, args.seed,
                   _env_kwargs(args.env_arg), args.rollouts_per_task)


def _train_estimator_command(args: argparse.Namespace) -> int:
    from .progress import ESTIMATOR_RECIPES

    if args.recipe not in ESTIMATOR_RECIPES:
        raise ValueError(f"recipe must be one of {sorted(ESTIMATOR_RECIPES)}, not {args.recipe!r}")
    recipe = ESTIMATOR_RECIPES[args.recipe]
    given = {k: getattr(args, k) for k in ("epochs", "lr", "backbone_lr", "batch_size", "val_fraction", "patience",
                                          "seed", "prefix_weight", "schedule")}
    training = recipe.training_args(**{k: v for k, v in given.items() if v is not None})
    return train_estimator_command(args.data, args.backbone, args.out, args.lora_r, training, args.pretrain,
                                   args.pretrain_epochs,
                                   recipe.task_prior if args.task_prior is None else args.task_prior, args.format)


def without_option(argv: Sequence[str], option: str) -> list[str]:
    """``argv`` without ``option`` and its value (``--option V`` or ``--option=V``).

    Example:
        >>> without_option(["run", "--num-processes", "2", "--seed=1", "--num-processes=3"], "--num-processes")
        ['run', '--seed=1']
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            kept.append(arg)
    return kept


def _run_command(args: argparse.Namespace) -> int:
    from .pipeline import RunConfig, run_pipeline

    if args.num_processes < 1:
        raise ValueError(f"--num-processes must be at least 1, not {args.num_processes}")
    if args.num_processes > 1 and "WORLD_SIZE" not in os.environ:  # not yet launched: launch this command N times
        import subprocess

        from .training.distributed import launch_command

        command, env = launch_command(args.num_processes, ["-m", "spa_gym.cli", *without_option(args.argv,
                                                                                               "--num-processes")])
        return subprocess.run(command, env=env).returncode
    config = RunConfig(args.env_id, args.preset, args.model, args.seed, args.eval_split, args.recipe,
                       args.alpha, args.beta)
    results = run_pipeline(args.out, config)
    from .training.distributed import process_state

    if not process_state().is_main_process:  # the main process reports
        return 0
    print(results.read_text())
    print(f"results: {results}; learning curve: {results.parent / 'learning_curve.png'}")
    return 0


def _convert_command(args: argparse.Namespace) -> int:
    from .agents.prompts import format_assistant, get_prompt
    from .data.formats import convert, detect, instruction_preamble, load_trajectories

    source = args.source_format or detect(args.src)
    options = {"human_goals": args.human_goals} if args.human_goals else {}
    preamble = assistant = None
    if source == "spa-gym":  # a chat format needs the agent's instruction and assistant turns
        walks = load_trajectories(args.src, source)
        if walks:
            preamble = instruction_preamble(get_prompt(walks[0].env_id, "react").instruction)

        def assistant(step):
            return step.raw_output if step.raw_output is not None else format_assistant(step.action, None, "react")
    count = convert(args.src, args.dst, args.to, source, preamble=preamble, assistant=assistant, **options)
    print(f"wrote {count} trajectories to {args.dst} ({source} -> {args.to})")
    return 0


def _replay_command(args: argparse.Namespace) -> int:
    from .data import TrajectoryWriter
    from .data.formats import FORMATS, detect, load_trajectories
    from .data.replay import replay_all

    source = args.source_format or detect(args.file)
    options = {"human_goals": args.human_goals} if args.human_goals else {}
    walks = load_trajectories(args.file, source, **options)
    reports = replay_all(walks, fields=args.check or FORMATS[source].recorded, loose=not args.strict,
                         env_kwargs=_env_kwargs(args.env_arg))
    for report in reports:
        if not report.ok:
            print(report.summary())
    matched = sum(report.ok for report in reports)
    print(f"{matched} of {len(reports)} trajectories replay as recorded ({source}, {args.file})")
    if args.out:
        with TrajectoryWriter(args.out) as writer:
            for report in reports:
                writer.write(report.replayed)
        print(f"the env's own recordings (rewards rescored): {args.out}")
    return 0 if matched == len(reports) else 1


def _eval_command(args: argparse.Namespace) -> int:
    from .evaluation import EvalConfig, evaluate_model, format_results

    config = EvalConfig(model=args.model, env_id=args.env_id, split=args.split, max_steps=args.max_steps,
                        style=args.style, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                        seed=args.seed, limit=args.limit, dtype=args.dtype, env_kwargs=_env_kwargs(args.env_arg),
                        backend=args.backend)
    result = evaluate_model(config, args.out)
    print(format_results(result), end="")
    print(f"results: {result.results_path}; trajectories: {result.trajectories_path}")
    return 0


def _compare_command(args: argparse.Namespace) -> int:
    from .compare import comparison_report, plot_learning_curves

    print(comparison_report(args.runs), end="")
    if args.plot:
        print(f"learning curves: {plot_learning_curves(args.runs, args.plot)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``spa-gym`` argument parser; each subcommand sets ``handler``."""
    parser = argparse.ArgumentParser(prog="spa-gym", description="spa-gym: text envs and SPA rewards for LLM agents")
    parser.add_argument("--version", action="version", version=f"spa-gym {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    play_parser = commands.add_parser("play", help="play an environment in the terminal")
    _add_env(play_parser, default="SPA-ALFWorld-v0")
    play_parser.add_argument("--seed", type=int, default=None, help="seed for drawing the task")
    play_parser.add_argument("--task-id", default=None, help="play this task (e.g. train-0042, or a game file)")
    play_parser.add_argument("--max-steps", type=int, default=None, help="step limit (default: the env's)")
    _add_env_arg(play_parser, "split=valid_unseen or grammar=2.1.3")
    play_parser.set_defaults(handler=_play_command)

    expert_parser = commands.add_parser("expert", help="record expert episodes as JSONL trajectories (SFT data)")
    _add_env(expert_parser)
    expert_parser.add_argument("--out", required=True, help="JSONL file to append the trajectories to")
    expert_parser.add_argument("--tasks", type=int, default=None, help="first N tasks (default: all)")
    _add_env_arg(expert_parser, "split=valid_seen")
    expert_parser.set_defaults(handler=_expert_command)

    collect_parser = commands.add_parser(
        "collect", help="play episodes with a simple policy and record them as JSONL trajectories"
    )
    _add_env(collect_parser)
    collect_parser.add_argument("--policy", required=True, metavar="POLICY",
                                help="expert, random or noisy-expert (LLM-model policies come with the agents)")
    collect_parser.add_argument("--episodes", type=int, required=True, help="how many episodes to play")
    collect_parser.add_argument("--out", required=True, help="JSONL file to append the trajectories to")
    collect_parser.add_argument("--epsilon", type=float, default=0.3,
                                help="noisy-expert: chance of a random or invalid action per step (default 0.3)")
    collect_parser.add_argument("--seed", type=int, default=0,
                                help="episode i resets with seed SEED+i; also seeds the policy (default 0)")
    collect_parser.add_argument("--rollouts-per-task", type=int, default=1,
                                help="play each drawn task this many times in a row (SPA-RL: 10 on ALFWorld)")
    _add_env_arg(collect_parser, "split=valid_seen or max_episode_steps=15")
    collect_parser.set_defaults(handler=_collect_command)

    train_parser = commands.add_parser("train-estimator", help="train a progress estimator on JSONL trajectories")
    train_parser.add_argument("--data", required=True,
                              help="trajectories: spa-gym JSONL (spa-gym collect) or SPA-RL's records")
    train_parser.add_argument("--format", default=None, choices=list(FORMATS),
                              help="the data's format (default: detected)")
    train_parser.add_argument("--backbone", default="tiny",
                              help="tiny (built locally), smollm2-135m or a checkpoint folder (default tiny)")
    train_parser.add_argument("--out", required=True, help="run folder: best/, checkpoint/, tensorboard/")
    _add_recipe(train_parser)
    for flag, kind in (("--epochs", int), ("--lr", float), ("--backbone-lr", float), ("--batch-size", int),
                       ("--val-fraction", float), ("--patience", int), ("--seed", int), ("--prefix-weight", float)):
        train_parser.add_argument(flag, type=kind, default=None,
                                  help="default: the recipe's or EstimatorTrainingConfig's")
    train_parser.add_argument("--schedule", default=None,
                              help="learning rates: constant or linear (default: the recipe's)")
    train_parser.add_argument("--task-prior", action=argparse.BooleanOptionalAction, default=None,
                              help="read c_0 before the first action, the task's expected outcome "
                                   "(default: the recipe's)")
    train_parser.add_argument("--lora-r", type=int, default=0, help="LoRA rank (0: train the whole backbone)")
    train_parser.add_argument("--pretrain", choices=["none", "actions", "all"], default="none",
                              help="first fine-tune the backbone as an LM on the data: action words or all tokens")
    train_parser.add_argument("--pretrain-epochs", type=int, default=4)
    train_parser.set_defaults(handler=_train_estimator_command)

    run_parser = commands.add_parser("run", help="the SPA-RL pipeline: SFT, explore, estimator, PPO x2, eval")
    _add_env(run_parser, default="SPA-ALFWorld-v0")
    run_parser.add_argument("--preset", default="tiny", choices=["smoke", "tiny", "cpu", "gpu"],
                            help="budgets and model: smoke (seconds), tiny (tiny model, minutes), cpu (SmolLM2 on "
                                 "2 cores, about 75 minutes, tuned for SPA-WebShop-v0), gpu")
    run_parser.add_argument("--out", required=True, help="run folder (an interrupted run resumes from it)")
    run_parser.add_argument("--model", default=None,
                            help="tiny, smollm2-135m or a local causal-LM folder (default: the preset's)")
    run_parser.add_argument("--seed", type=int, default=0)
    run_parser.add_argument("--eval-split", default=None,
                            help="split to evaluate on (default: the benchmark's; ALFWorld valid_unseen, WebShop test)")
    _add_recipe(run_parser, "--estimator-recipe")
    run_parser.add_argument("--alpha", type=float, default=None,
                            help="SPA's progress weight (default: the preset's, 1)")
    run_parser.add_argument("--beta", type=float, default=None,
                            help="SPA's grounding weight (default: the preset's, 0.5)")
    run_parser.add_argument("--num-processes", type=int, default=1,
                            help="train data-parallel on N processes (one per GPU; gloo on CPUs) with accelerate; "
                                 "collection and evaluation run on the main one")
    run_parser.set_defaults(handler=_run_command)

    convert_parser = commands.add_parser("convert", help="convert trajectories between spa-gym JSONL and the "
                                                         "field's formats (ETO, AgentGym, SPA-RL, WebShop IL)")
    convert_parser.add_argument("src")
    convert_parser.add_argument("dst")
    convert_parser.add_argument("--to", required=True, choices=list(FORMATS))
    convert_parser.add_argument("--from", dest="source_format", default=None, choices=list(FORMATS),
                                help="default: detected from the first record")
    convert_parser.add_argument("--human-goals", default=None, help="webshop-il: WebShop's human goals file")
    convert_parser.set_defaults(handler=_convert_command)

    replay_parser = commands.add_parser("replay", help="replay recorded trajectories in their env and report "
                                                       "where it answers differently (engine drift)")
    replay_parser.add_argument("file")
    replay_parser.add_argument("--from", dest="source_format", default=None, choices=list(FORMATS))
    replay_parser.add_argument("--check", nargs="+", default=None, metavar="FIELD",
                               help="fields to compare (default: what the format records)")
    replay_parser.add_argument("--strict", action="store_true", help="byte-exact observations only")
    replay_parser.add_argument("--human-goals", default=None, help="webshop-il: WebShop's human goals file")
    replay_parser.add_argument("--out", default=None, help="write the env's own recordings (rescored) here")
    _add_env_arg(replay_parser, "data_dir=/path/to/webshop/data")
    replay_parser.set_defaults(handler=_replay_command)

    eval_parser = commands.add_parser(
        "eval", help="evaluate a model on every task of a split, greedy, into a results file stamped with the protocol")
    eval_parser.add_argument("--model", required=True,
                             help="tiny, smollm2-135m, a transformers folder or a saved policy (sft/, ppo-*/policy)")
    _add_env(eval_parser, default="SPA-ALFWorld-v0")
    eval_parser.add_argument("--split", default=None, help="default: the benchmark's test split")
    eval_parser.add_argument("--max-steps", type=int, default=None, help="default: the benchmark's step limit")
    eval_parser.add_argument("--limit", type=int, default=None,
                             help="only the first N tasks (stamped as not the full protocol)")
    eval_parser.add_argument("--out", required=True, help="results file (.json); trajectories go beside it (.jsonl)")
    eval_parser.add_argument("--style", default=None, choices=["react", "compact"],
                             help="prompt style (default: the policy's, else by model kind)")
    eval_parser.add_argument("--max-new-tokens", type=int, default=None)
    eval_parser.add_argument("--batch-size", type=int, default=16, help="episodes played at once")
    eval_parser.add_argument("--seed", type=int, default=0)
    eval_parser.add_argument("--dtype", default=None, choices=["float32", "bfloat16", "float16"])
    eval_parser.add_argument("--backend", default="transformers", choices=["transformers", "vllm"],
                             help="generation backend (vllm: a GPU and the vllm extra)")
    _add_env_arg(eval_parser, "num_products=1000")
    eval_parser.set_defaults(handler=_eval_command)

    compare_parser = commands.add_parser("compare",
                                         help="pool the evaluations of several runs (seeds), agents task by task")
    compare_parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders of spa-gym run")
    compare_parser.add_argument("--plot", default=None, metavar="PNG", help="also draw the runs' PPO learning curves")
    compare_parser.set_defaults(handler=_compare_command)
    return parser


#: What a command reports as a one-line error (exit code 2) instead of a traceback: bad arguments
#: (including gym.make's keyword checks, which raise TypeError), unknown tasks, missing or broken
#: files, and models that are not installed (a FileNotFoundError).
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, IndexError, OSError)


def main(argv: Sequence[str] | None = None, input_fn: Callable[[str], str] = input) -> int:
    """Run ``spa-gym`` with ``argv`` (``input_fn`` reads ``play``'s commands); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.input_fn, args.argv = input_fn, argv
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        print(f"spa-gym {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
