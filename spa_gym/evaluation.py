"""The evaluation protocol: every task of a split exactly once, greedily, in a results file stamped with
everything that decides the numbers, so that two evaluations can be compared (``spa-gym eval``).

:func:`evaluate_model` plays task indices ``0 .. n-1`` of the split (``n`` = the split's size, or
``limit``) once each, greedy, in batches of :func:`~spa_gym.agents.rollout.play_episodes`, and writes

- ``<out>.jsonl``: one trajectory per task (appended batch by batch; a crash loses at most the batch
  being played). Run again with the same ``out`` to resume: tasks already in the file are not replayed.
- ``<out>.json``: the results: ``protocol`` (the stamp: spa-gym, env class and a fingerprint of its
  task suite, split, step limit, model and a hash of its weights, prompt style and a hash of the prompt,
  decoding, seed, batch size, dtype, device, library versions, date, and whether this run is the full
  protocol or which ``deviations`` it has), ``metrics`` (success rate with a Wilson 95% interval,
  average reward, grounding accuracy; WebShop also its 0-100 score), ``breakdown`` (ALFWorld: the six
  task types as ALFWorld papers report them; VirtualHome: per activity) and one row per task.

The file holds ``"status": "running"`` from the start of a run and ``"complete"`` when it finished; a
resumed run must have the same protocol (model weights, versions, style, ...) or it is refused.

Example:
    >>> alfworld_label("look_at_obj_in_light")
    'Look'
    >>> [alfworld_label(t) for t in ALFWORLD_TASK_LABELS]
    ['Pick', 'Clean', 'Heat', 'Cool', 'Look', 'Pick Two']
    >>> config = EvalConfig(model="tiny", env_id="SPA-WebShop-v0")
    >>> config.split_or_default, config.max_steps_or_default
    ('test', 10)
"""

from __future__ import annotations

import datetime
import hashlib
import inspect
import json
import math
import os
import platform
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from . import __version__
from .agents.rollout import GENERATION_BACKENDS, Evaluation, Interval, evaluate, make_generator, play_episodes
from .data.trajectories import Trajectory, TrajectoryWriter, read_trajectories
from .envs import ENV_SPECS
from .training.models import file_sha256

#: Version of the results file's layout.
RESULTS_FORMAT_VERSION = 1

#: ALFWorld's six task types -> the names ALFWorld papers give their columns, in the papers' column
#: order (ReAct, Reflexion, ETO, SPA-RL: Pick, Clean, Heat, Cool, Look, Pick Two).
ALFWORLD_TASK_LABELS: dict[str, str] = {
    "pick_and_place_simple": "Pick",
    "pick_clean_then_place_in_recep": "Clean",
    "pick_heat_then_place_in_recep": "Heat",
    "pick_cool_then_place_in_recep": "Cool",
    "look_at_obj_in_light": "Look",
    "pick_two_obj_and_place": "Pick Two",
}

#: Weights above this size (all files together) are not hashed (``weights_sha256`` is then ``None``).
HASH_LIMIT_BYTES = 4 << 30

#: Protocol fields that may differ between the runs that fill one results file (a run with a larger
#: ``limit`` may extend a smaller one); every other field must match for a run to resume.
_PER_RUN_FIELDS = frozenset({"limit", "tasks_evaluated", "full_protocol", "deviations", "date", "tasks_sha256"})

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


@dataclass
class EvalConfig:
    """What one evaluation is asked for. ``None`` fields take the protocol's defaults (see each).

    ``model``: a name of :func:`spa_gym.training.resolve_model` (``"tiny"``, ``"smollm2-135m"``), a
    transformers folder, a folder saved by :meth:`~spa_gym.agents.policy.LLMPolicy.save_pretrained`
    (an SFT or PPO output), or a Hugging Face id.
    """

    model: str
    env_id: str = "SPA-ALFWorld-v0"
    split: str | None = None  # default: the split the benchmark evaluates on (ENV_SPECS)
    max_steps: int | None = None  # default: the benchmark's step limit (ENV_SPECS)
    #: Prompt style; default: the style the folder was trained with (``sft_history.json``, or a PPO
    #: run's ``ppo_history.json``), else ``"compact"`` for tiny models and ``"react"`` for pretrained ones.
    style: str | None = None
    #: Tokens generated per turn; default: the PPO run's, else 40 (compact) or 128 (react).
    max_new_tokens: int | None = None
    batch_size: int = 16  # envs played at once
    seed: int = 0  # seeds each task's env reset (only envs with randomness use it)
    limit: int | None = None  # only the first ``limit`` tasks: a quick check, stamped as not the full protocol
    dtype: str | None = None  # cast the model to this torch dtype ("bfloat16"); None: as loaded
    env_kwargs: dict[str, Any] = field(default_factory=dict)  # extra ``gym.make`` arguments (stamped)
    backend: str = "transformers"  # generation: "transformers", or "vllm" on a GPU (the vllm extra)

    def __post_init__(self) -> None:
        if self.env_id not in ENV_SPECS:
            raise ValueError(f"unknown env id {self.env_id!r}; expected one of {sorted(ENV_SPECS)}")
        for name in ("max_steps", "max_new_tokens", "limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.backend not in GENERATION_BACKENDS:
            raise ValueError(f"generation backend must be one of {GENERATION_BACKENDS}, not {self.backend!r}")
        if self.style is not None:
            from .agents.prompts import check_style

            check_style(self.style)
        if self.dtype not in (None, "float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, not {self.dtype!r}")
        if "split" in self.env_kwargs or "max_episode_steps" in self.env_kwargs:
            raise ValueError("give split and max_steps as EvalConfig fields, not in env_kwargs")

    @property
    def split_or_default(self) -> str:
        return self.split or ENV_SPECS[self.env_id].eval_split

    @property
    def max_steps_or_default(self) -> int:
        return self.max_steps or ENV_SPECS[self.env_id].max_episode_steps


@dataclass
class TaskOutcome:
    """One task's row of the results."""

    task_id: str
    task_type: str | None
    won: bool
    reward: float
    steps: int
    grounded_steps: int


@dataclass
class GroupEvaluation:
    """The metrics of the tasks of one type (``label``: as papers name it; ``task_type``: as the env does)."""

    label: str
    task_type: str
    evaluation: Evaluation


@dataclass
class EvalResult:
    """What :func:`evaluate_model` measured, under which protocol, and where it wrote it."""

    protocol: dict[str, Any]
    evaluation: Evaluation
    breakdown: list[GroupEvaluation]
    tasks: list[TaskOutcome]
    results_path: Path
    trajectories_path: Path
    status: str = "complete"

    @property
    def full_protocol(self) -> bool:
        """Every task of the benchmark's split, at its step limit, with the env's default options."""
        return bool(self.protocol["full_protocol"])

    @property
    def score(self) -> Interval | None:
        """WebShop's score: the average purchase reward on a 0-100 scale (``None`` for other envs)."""
        if self.protocol["env_id"] != "SPA-WebShop-v0":
            return None
        reward = self.evaluation.average_reward
        return Interval(100 * reward.value, 100 * reward.low, 100 * reward.high)

    def to_dict(self) -> dict[str, Any]:
        """The results file's content (NaN written as ``null``)."""
        metrics = _evaluation_dict(self.evaluation)
        if self.score is not None:
            metrics["score"] = _interval_dict(self.score)
        return {
            "format": "spa-gym-eval",
            "format_version": RESULTS_FORMAT_VERSION,
            "status": self.status,
            "protocol": self.protocol,
            "metrics": metrics,
            "breakdown": [{"label": g.label, "task_type": g.task_type, **_evaluation_dict(g.evaluation)}
                          for g in self.breakdown],
            "tasks": [asdict(task) for task in self.tasks],
            "trajectories": self.trajectories_path.name,
        }


# -- task types ----------------------------------------------------------------------------------

def alfworld_label(task_type: str) -> str:
    """The column name ALFWorld papers give an ALFWorld task type; ``ValueError`` for anything else."""
    try:
        return ALFWORLD_TASK_LABELS[task_type]
    except KeyError:
        raise ValueError(f"unknown ALFWorld task type {task_type!r}; expected one of "
                         f"{list(ALFWORLD_TASK_LABELS)}") from None


def task_types(env: gym.Env, indices: Iterable[int]) -> list[str | None]:
    """The ``info["task_type"]`` of each task index, read from the task suite when it has it (no game is
    built), else from a reset; ``None`` for envs without task types (WebShop)."""
    unwrapped = env.unwrapped
    suite = getattr(unwrapped, "suite", None)
    lookup: Callable[[int], str] | None = getattr(suite, "task_type", None) or getattr(suite, "activity", None)
    indices = list(indices)
    if lookup is not None:
        return [lookup(index) for index in indices]
    types: list[str | None] = []
    for index in indices:
        _, info = unwrapped.reset(options={"task_index": index})
        if "task_type" not in info:  # the env has no task types
            return [None] * len(indices)
        types.append(info["task_type"])
    return types


def breakdown(env_id: str, trajectories: Sequence[Trajectory], types: Sequence[str | None]) -> list[GroupEvaluation]:
    """Metrics per task type: ALFWorld's six types in the papers' order (all six, even with no task),
    VirtualHome's activities in the suite's order (those evaluated); ``[]`` for envs without types."""
    if env_id == "SPA-ALFWorld-v0":
        order = list(ALFWORLD_TASK_LABELS)
        for task_type in types:
            alfworld_label(str(task_type))  # every type must be one of the six
        labels: Callable[[str], str] = alfworld_label
    elif env_id == "SPA-VirtualHome-v0":
        from .envs.virtualhome.tasks import ACTIVITIES, ACTIVITY_BY_KEY

        present = {t for t in types if t is not None}
        order = [a.key for a in ACTIVITIES if a.key in present]
        order += sorted(present - set(order))
        labels = lambda key: ACTIVITY_BY_KEY[key].title if key in ACTIVITY_BY_KEY else key  # noqa: E731
    else:
        return []
    return [GroupEvaluation(labels(task_type), task_type,
                            evaluate([t for t, kind in zip(trajectories, types) if kind == task_type]))
            for task_type in order]


# -- the stamp -----------------------------------------------------------------------------------

def _weight_files(folder: Path) -> list[Path]:
    """The files a load reads weights from: a plain folder's own, a saved policy's model or adapter and
    value head."""
    from .agents.policy import CONFIG_FILE, MODEL_DIR

    if not (folder / CONFIG_FILE).is_file():
        places = [folder]
    else:
        places = [folder, folder / MODEL_DIR, folder / "adapter"]
    return sorted(p for place in places if place.is_dir() for p in place.iterdir()
                  if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))


def weights_fingerprint(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"weights_sha256": {relative path: sha256}, "weights_bytes": total}`` of a model folder's weight
    files (``weights_sha256`` is ``None`` above :data:`HASH_LIMIT_BYTES`)."""
    folder = Path(folder)
    files = _weight_files(folder)
    total = sum(p.stat().st_size for p in files)
    hashes = None if total > HASH_LIMIT_BYTES else {p.relative_to(folder).as_posix(): file_sha256(p) for p in files}
    return {"weights_sha256": hashes, "weights_bytes": total}


def model_stamp(name: str, path: str) -> dict[str, Any]:
    """What identifies the model: its name, resolved path, format, kind and the hash of its weights
    (and of its base model's, for a LoRA adapter)."""
    from .agents.policy import CONFIG_FILE, MODEL_DIR
    from .training.tiny import is_tiny_model

    folder = Path(path)
    if not folder.is_dir():  # a Hugging Face id, resolved by transformers
        return {"name": name, "path": path, "format": "hub id", "tiny": False, "lora": False,
                "weights_sha256": None, "weights_bytes": None}
    stamp: dict[str, Any] = {"name": name, "path": str(folder.resolve())}
    if (folder / CONFIG_FILE).is_file():
        saved = json.loads((folder / CONFIG_FILE).read_text())
        base = saved.get("base_model_path")
        stamp.update(format="spa-gym policy", lora=bool(saved.get("lora")),
                     tiny=is_tiny_model(folder / MODEL_DIR) or bool(base and is_tiny_model(base)))
        stamp.update(weights_fingerprint(folder))
        if stamp["lora"] and base:
            stamp["base_model"] = {"path": str(Path(base).resolve()), **weights_fingerprint(base)}
    else:
        stamp.update(format="transformers folder", tiny=is_tiny_model(folder), lora=False)
        stamp.update(weights_fingerprint(folder))
    return stamp


def _history_args(folder: Path) -> tuple[dict[str, Any], str] | None:
    """The training arguments saved beside a policy: SFT's ``sft_history.json`` in it, or a PPO run's
    ``ppo_history.json`` beside its ``policy`` folder."""
    for path in (folder / "sft_history.json", folder.parent / "ppo_history.json" if folder.name == "policy" else None):
        if path is not None and path.is_file():
            try:
                args = json.loads(path.read_text()).get("args")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(args, dict):
                return args, path.name
    return None


def default_decoding(model: Mapping[str, Any], style: str | None,
                     max_new_tokens: int | None) -> tuple[str, str, int]:
    """``(style, where it came from, max_new_tokens)``: the given ones, else what the model was trained
    with (its history files), else by kind: tiny -> compact, 40 tokens; pretrained -> react, 128 tokens."""
    history = _history_args(Path(model["path"])) if model["format"] != "hub id" else None
    args, source = history if history else ({}, "")
    if style is not None:
        chosen, origin = style, "given"
    elif args.get("style"):
        chosen, origin = str(args["style"]), source
    else:
        chosen = "compact" if model["tiny"] else "react"
        origin = "model kind (tiny)" if model["tiny"] else "model kind (pretrained)"
    if max_new_tokens is None:
        max_new_tokens = int(args.get("max_new_tokens") or (40 if chosen == "compact" else 128))
    return chosen, origin, max_new_tokens


def suite_stamp(env: gym.Env) -> dict[str, Any]:
    """What defines the task suite an env plays: versions, sizes and the options that change tasks or
    their scoring (catalog, goals, grammar, parity switches)."""
    unwrapped = env.unwrapped
    cls = type(unwrapped)
    stamp: dict[str, Any] = {"env_class": f"{cls.__module__}.{cls.__qualname__}", "num_tasks": unwrapped.num_tasks()}
    suite = getattr(unwrapped, "suite", None)
    if cls.__name__ == "ALFWorldEnv":
        from .envs.alfworld.suite import SUITE_VERSION

        if suite is None:
            stamp.update(source="game files", num_game_files=len(unwrapped.game_files))
        else:
            types = [suite.task_type(i) for i in range(len(suite))]
            stamp.update(source="generated suite", suite_version=SUITE_VERSION, grammar=suite.grammar,
                         task_mix={t: types.count(t) for t in ALFWORLD_TASK_LABELS})
    elif cls.__name__ == "WebShopEnv":
        from bm25s import __version__ as bm25s_version

        from .envs.webshop.catalog import GENERATOR_VERSION
        from .envs.webshop.goals import SUITE_VERSION
        from .envs.webshop.search import ANALYZER_VERSION

        catalog = unwrapped.catalog
        generated = re.fullmatch(r"catalog-v(\w+)-n(\d+)-s(-?\d+)", catalog.key)
        stamp.update(
            source="generated catalog" if generated else "WebShop files", catalog_key=catalog.key,
            catalog_size=len(catalog), catalog_generator_version=GENERATOR_VERSION if generated else None,
            catalog_seed=int(generated.group(3)) if generated else None, goal_suite_version=SUITE_VERSION,
            human_goals=suite.goals.human, price_seed=suite.goals.price_seed, total_goals=len(suite.goals.goals),
            observation_mode=unwrapped.observation_mode, fuzz_backend=unwrapped.fuzz_backend,
            session_flags=dict(unwrapped.session_flags), search_analyzer_version=ANALYZER_VERSION,
            bm25s_version=bm25s_version)
    elif cls.__name__ == "VirtualHomeEnv":
        from .envs.virtualhome.tasks import SUITE_VERSION

        stamp.update(source="generated suite" if suite is not None else "custom program",
                     suite_version=SUITE_VERSION if suite is not None else None,
                     strict_parity=unwrapped.strict_parity, keep_bindings_on_reject=unwrapped.keep_bindings_on_reject)
    return stamp


def prompt_sha256(env_id: str, style: str) -> str:
    """Hash of the fixed part of the chat (instruction and in-context example) in ``style``."""
    from .agents.prompts import get_prompt

    prompt = get_prompt(env_id, style)  # type: ignore[arg-type]
    text = json.dumps({"instruction": prompt.instruction, "example": prompt.example}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def tasks_sha256(trajectories: Sequence[Trajectory]) -> str:
    """Hash of what the evaluated tasks are (id, task text, initial observation, in task order): equal
    hashes mean the same tasks were played."""
    digest = hashlib.sha256()
    for t in trajectories:
        digest.update(json.dumps([t.task_id, t.task, t.initial_observation]).encode() + b"\n")
    return digest.hexdigest()


def reset_seed(seed: int, task_id: str) -> int:
    """The reset seed of one task: a function of the run seed and the task alone (not of batching).

    >>> reset_seed(0, "valid_unseen-0000") == reset_seed(0, "valid_unseen-0000") != reset_seed(1, "valid_unseen-0000")
    True
    """
    return random.Random(f"{seed}-eval-{task_id}").randrange(2**31)


def _env_deviations(env_id: str, env_kwargs: Mapping[str, Any]) -> list[str]:
    """The env options that differ from the env class's defaults."""
    module, _, name = ENV_SPECS[env_id].entry_point.partition(":")
    parameters = inspect.signature(getattr(__import__(module, fromlist=[name]), name)).parameters
    changed = {k: v for k, v in env_kwargs.items()
               if k != "render_mode" and (k not in parameters or parameters[k].default != v)}
    return [f"env options {changed}"] if changed else []


def _protocol(config: EvalConfig, env: gym.Env, model: dict[str, Any], style: str, style_source: str,
              max_new_tokens: int, policy: Any, count: int) -> dict[str, Any]:
    import torch
    import transformers

    spec = ENV_SPECS[config.env_id]
    split, max_steps = config.split_or_default, config.max_steps_or_default
    num_tasks = env.unwrapped.num_tasks()
    deviations = []
    if split != spec.eval_split:
        deviations.append(f"split {split} (the benchmark evaluates on {spec.eval_split})")
    if max_steps != spec.max_episode_steps:
        deviations.append(f"step limit {max_steps} (the benchmark's is {spec.max_episode_steps})")
    deviations += _env_deviations(config.env_id, config.env_kwargs)
    if count < num_tasks:
        deviations.append(f"only the first {count} of the split's {num_tasks} tasks (limit {config.limit})")
    parameter = next(policy.model.parameters())
    return {
        "spa_gym_version": __version__,
        "env_id": config.env_id,
        **suite_stamp(env),
        "env_kwargs": dict(config.env_kwargs),
        "split": split,
        "benchmark_split": spec.eval_split,
        "max_steps": max_steps,
        "benchmark_max_steps": spec.max_episode_steps,
        "limit": config.limit,
        "tasks_evaluated": count,
        "full_protocol": not deviations,
        "deviations": deviations,
        "model": model,
        "style": style,
        "style_source": style_source,
        "prompt_sha256": prompt_sha256(config.env_id, style),
        "history": "full",  # every turn of the episode is in the model's context (SPA-RL's setting)
        "greedy": True,
        "generation_backend": config.backend,
        "max_new_tokens": max_new_tokens,
        "seed": config.seed,
        "reset_seeds": "random.Random(f'{seed}-eval-{task_id}').randrange(2**31)",
        "batch_size": config.batch_size,
        "dtype": str(parameter.dtype).removeprefix("torch."),
        "device": parameter.device.type,
        "python_version": platform.python_version(),
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "gymnasium_version": gym.__version__,
        "date": None,
        "tasks_sha256": None,
    }


# -- the run -------------------------------------------------------------------------------------

def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a tmp file renamed over ``path``), NaN as ``null``."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(_no_nan(data), indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def _interval_dict(interval: Interval) -> dict[str, float]:
    return {"value": interval.value, "low": interval.low, "high": interval.high}


def _evaluation_dict(evaluation: Evaluation) -> dict[str, Any]:
    return {"episodes": evaluation.episodes, "success_rate": _interval_dict(evaluation.success_rate),
            "average_reward": _interval_dict(evaluation.average_reward),
            "grounding_accuracy": _interval_dict(evaluation.grounding_accuracy)}


def _identity(protocol: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in protocol.items() if k not in _PER_RUN_FIELDS}


def _previous(results_path: Path, trajectories_path: Path, protocol: dict[str, Any],
              task_ids: Sequence[str]) -> dict[str, Trajectory]:
    """The trajectories an earlier run of the same protocol left (task id -> trajectory). Raises when the
    results file is another protocol's (or not an evaluation's), or the trajectories have no results file
    or are not tasks of this split."""
    if results_path.is_file():
        try:
            saved = json.loads(results_path.read_text())
        except ValueError:
            saved = None
        if not isinstance(saved, dict) or saved.get("format") != "spa-gym-eval":
            raise ValueError(f"{results_path} exists and is not a spa-gym results file: choose another output file")
        before, now = _identity(saved.get("protocol", {})), _identity(protocol)
        if before != now:
            changed = ", ".join(sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k)))
            raise ValueError(f"{results_path} holds an evaluation under another protocol (differs in {changed}): "
                             "choose another output file, or delete it and its .jsonl to start over")
        done = saved.get("protocol", {}).get("tasks_evaluated") or 0
        if saved.get("status") == "complete" and done > protocol["tasks_evaluated"]:
            raise ValueError(f"{results_path} already holds the results of {done} tasks: give a limit of at least "
                             f"{done} (or none), or choose another output file")
    if not trajectories_path.is_file() or not (trajectories := read_trajectories(trajectories_path)):
        return {}
    if not results_path.is_file():
        raise ValueError(f"{trajectories_path} holds trajectories but {results_path} is missing, so their protocol "
                         "is unknown: delete the .jsonl or choose another output file")
    known = set(task_ids)
    found: dict[str, Trajectory] = {}
    for trajectory in trajectories:
        if trajectory.env_id != protocol["env_id"] or trajectory.task_id not in known:
            raise ValueError(f"{trajectories_path}: task {trajectory.task_id!r} of {trajectory.env_id} is not a task "
                             f"of {protocol['env_id']} split {protocol['split']}")
        if trajectory.task_id in found:
            raise ValueError(f"{trajectories_path}: task {trajectory.task_id!r} appears twice")
        found[trajectory.task_id] = trajectory
    return found


def _load_policy(path: str, dtype: str | None) -> Any:
    import torch

    from .agents.policy import LLMPolicy

    policy = LLMPolicy.from_pretrained(path)
    if dtype is not None:
        policy = policy.to(getattr(torch, dtype))
    policy.eval()
    return policy.to("cuda" if torch.cuda.is_available() else "cpu")


def evaluate_model(config: EvalConfig, out_path: str | os.PathLike[str], *, policy: Any | None = None,
                   progress: bool = True) -> EvalResult:
    """Evaluate ``config.model`` by the protocol; write ``out_path`` (``.json``) and the trajectories beside
    it (``.jsonl``); resume a run interrupted on the same files.

    ``policy``: an already loaded :class:`~spa_gym.agents.policy.LLMPolicy` of ``config.model`` (saves
    loading it again; the stamp still describes ``config.model``'s folder).
    """
    from tqdm.auto import tqdm

    from .training import resolve_model

    results_path = Path(out_path)
    if results_path.suffix != ".json":
        raise ValueError(f"the results file ends in .json (the trajectories go beside it, .jsonl): {results_path}")
    trajectories_path = results_path.with_suffix(".jsonl")
    model_path = resolve_model(config.model, config.env_id)
    model = model_stamp(config.model, model_path)
    style, style_source, max_new_tokens = default_decoding(model, config.style, config.max_new_tokens)

    def make() -> gym.Env:
        return gym.make(config.env_id, split=config.split_or_default, max_episode_steps=config.max_steps_or_default,
                        **config.env_kwargs)

    envs = [make()]
    task_ids = envs[0].unwrapped.task_ids()
    count = min(config.limit or len(task_ids), len(task_ids))
    if policy is None:
        policy = _load_policy(model_path, config.dtype)
    protocol = _protocol(config, envs[0], model, style, style_source, max_new_tokens, policy, count)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    played = _previous(results_path, trajectories_path, protocol, task_ids)
    _write_json(results_path, {"format": "spa-gym-eval", "format_version": RESULTS_FORMAT_VERSION,
                               "status": "running", "protocol": protocol, "trajectories": trajectories_path.name})
    todo = {i for i in range(count) if task_ids[i] not in played}
    generator = make_generator(policy, config.backend, seed=config.seed)
    envs += [make() for _ in range(min(config.batch_size, len(todo)) - 1)]
    with TrajectoryWriter(trajectories_path) as writer, tqdm(
            total=count, initial=count - len(todo), desc=f"eval {config.env_id} {protocol['split']}", unit="task",
            disable=not progress) as bar:
        for start in range(0, count, config.batch_size):  # a fixed grid: a resumed batch is the batch it was
            batch = [i for i in range(start, min(start + config.batch_size, count)) if i in todo]
            if not batch:
                continue
            episodes = play_episodes(policy, envs[: len(batch)], seeds=[reset_seed(config.seed, task_ids[i])
                                                                         for i in batch],
                                     options=[{"task_index": i} for i in batch], style=style, greedy=True,
                                     max_new_tokens=max_new_tokens, generator=generator)
            for index, episode in zip(batch, episodes):
                if episode.trajectory.task_id != task_ids[index]:
                    raise RuntimeError(f"task index {index} played {episode.trajectory.task_id}, not {task_ids[index]}")
                writer.write(episode.trajectory)
                played[task_ids[index]] = episode.trajectory
            bar.update(len(batch))
    trajectories = [played[task_ids[i]] for i in range(count)]
    types = task_types(envs[0], range(count))
    for env in envs:
        env.close()
    protocol.update(date=_now(), tasks_sha256=tasks_sha256(trajectories))
    result = EvalResult(protocol, evaluate(trajectories), breakdown(config.env_id, trajectories, types),
                        [TaskOutcome(t.task_id, kind, t.won, t.final_reward, len(t.steps),
                                     sum(s.grounded for s in t.steps)) for t, kind in zip(trajectories, types)],
                        results_path, trajectories_path)
    _write_json(results_path, result.to_dict())
    return result


# -- reading and printing ------------------------------------------------------------------------

def _interval(data: Mapping[str, Any]) -> Interval:
    return Interval(*(math.nan if data[k] is None else float(data[k]) for k in ("value", "low", "high")))


def _evaluation(data: Mapping[str, Any]) -> Evaluation:
    return Evaluation(int(data["episodes"]), _interval(data["success_rate"]), _interval(data["average_reward"]),
                      _interval(data["grounding_accuracy"]))


def load_results(path: str | os.PathLike[str]) -> EvalResult:
    """The :class:`EvalResult` of a finished results file (``ValueError`` for a running or foreign one)."""
    path = Path(path)
    data = json.loads(path.read_text())
    if data.get("format") != "spa-gym-eval" or data.get("format_version") != RESULTS_FORMAT_VERSION:
        raise ValueError(f"{path} is not a spa-gym results file (format version {RESULTS_FORMAT_VERSION})")
    if data.get("status") != "complete":
        raise ValueError(f"{path} holds an evaluation that has not finished: run it again to resume it")
    return EvalResult(data["protocol"], _evaluation(data["metrics"]),
                      [GroupEvaluation(g["label"], g["task_type"], _evaluation(g)) for g in data["breakdown"]],
                      [TaskOutcome(**task) for task in data["tasks"]], path, path.with_name(data["trajectories"]))


def _percent(interval: Interval) -> str:
    if math.isnan(interval.value):
        return "-"
    return f"{100 * interval.value:.1f}% [{100 * interval.low:.1f}, {100 * interval.high:.1f}]"


def format_results(result: EvalResult) -> str:
    """A markdown summary: the protocol in one paragraph, the metrics, and the per-type breakdown."""
    p, model = result.protocol, result.protocol["model"]
    weights = [model.get("weights_sha256"), model.get("base_model", {}).get("weights_sha256")]
    digest = "not hashed"
    if weights[0]:
        digest = hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:12]
    lines = [
        f"# {p['env_id']}, split {p['split']}: {model['name']}",
        "",
        f"Greedy, every task once: {p['tasks_evaluated']} of {p['num_tasks']} tasks, step limit {p['max_steps']}, "
        f"{p['style']} prompt ({p['style_source']}), at most {p['max_new_tokens']} new tokens a turn, "
        f"seed {p['seed']}; "
        f"model {model['path']} (weights {digest}); spa-gym {p['spa_gym_version']}, torch {p['torch_version']}, "
        f"transformers {p['transformers_version']}, {p['device']} {p['dtype']}; {p['date']}. "
        "95% intervals (Wilson for rates).",
        "",
    ]
    if not result.full_protocol:
        lines += [f"**Not the full protocol**: {'; '.join(p['deviations'])}.", ""]
    ev = result.evaluation
    lines += ["| metric | value [95% CI] |", "|---|---|",
              f"| success rate | {_percent(ev.success_rate)} |",
              f"| average reward | {ev.average_reward} |",
              f"| grounding accuracy | {_percent(ev.grounding_accuracy)} |"]
    if result.score is not None:
        score = result.score
        lines.append(f"| score (0-100) | {score.value:.1f} [{score.low:.1f}, {score.high:.1f}] |")
    if result.breakdown:
        lines += ["", "| task type | episodes | successes | success rate [95% CI] |", "|---|---|---|---|"]
        for group in result.breakdown:
            wins = sum(t.won for t in result.tasks if t.task_type == group.task_type)
            rate = _percent(group.evaluation.success_rate)
            lines.append(f"| {group.label} | {group.evaluation.episodes} | {wins} | {rate} |")
        lines.append(f"| All | {ev.episodes} | {sum(t.won for t in result.tasks)} | {_percent(ev.success_rate)} |")
    return "\n".join(lines) + "\n"
