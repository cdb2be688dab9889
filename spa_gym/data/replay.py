"""Replay a recorded trajectory in its spa-gym env and check that the env answers as recorded.

A recording (spa-gym's JSONL, or any format of :mod:`.formats`) holds a task and the actions sent;
:func:`replay` resets the matching env on that task, sends the same actions and compares what comes
back with what was recorded, so engine drift (an update of the original, or of spa-gym) shows up
as the first step where the two part. Step ``0`` is the observation after ``reset``, step ``t``
the answer to action ``t``.

Observations are compared byte for byte; with ``loose=True`` (the default) a pair that differs
only in ways the field's recordings are known to differ still matches, counted as ``loose``:
whitespace (chat formats trim turns); ALFWorld's ``-= Welcome to TextWorld, ALFRED! =-`` header and
the old data's ``You arrive at loc N.`` (AgentGym strips it); WebShop's instruction price (the
original draws it unseeded, so it changes between processes, ETO#17) and a page recorded without
its leading ``Instruction: [SEP] <instruction>`` (the shortened observations of IPR/SPA-RL's SFT
data). A last observation recorded as ``""`` is a format that did not record it (SPA-RL's
estimator data, chats ending on the agent's turn): it is ``unrecorded``, not compared. Rewards,
``grounded`` and ``won`` are compared when asked (``fields``): the chat formats do not record them
(:mod:`.formats.inference` fills them in), spa-gym's JSONL does (``formats.FORMATS[name].recorded``).

The env: ``reset(options={"task_id": ...})`` with the recorded task id (a WebShop trajectory
without one, e.g. a human demonstration read without ``human_goals``, is found by its
instruction). Without ``env=``, :func:`make_replay_env` builds it: the split named by the task id
(``test-0007`` -> ``split="test"``), WebShop's ``text_rich`` mode for ``text_rich`` pages, and
``env_kwargs`` (e.g. ``data_dir=`` for WebShop's real files, ``game_files=`` for ALFWorld's).
:attr:`ReplayReport.replayed` is the env's own record of the same actions, with its rewards and
flags: replaying a format without rewards scores it.

Example:
    >>> import gymnasium as gym, spa_gym
    >>> from spa_gym.data.collect import expert_episode
    >>> walk = expert_episode(gym.make("SPA-ALFWorld-v0", split="valid_seen"), options={"task_index": 0})
    >>> replay(walk, fields=FIELDS).ok
    True
    >>> walk.steps[1].observation = "You see a unicorn."
    >>> report = replay(walk)
    >>> report.first_divergence.step, report.first_divergence.expected
    (2, 'You see a unicorn.')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from .formats import ALL_FIELDS
from .formats.inference import ALFWORLD, WEBSHOP
from .formats.webshop_il import goal_key
from .trajectories import Trajectory

__all__ = ["FIELDS", "Divergence", "ReplayReport", "compare_observations", "make_replay_env", "replay",
           "replay_all", "replay_env_kwargs", "reset_options"]

#: What :func:`replay` can compare.
FIELDS: tuple[str, ...] = ALL_FIELDS
_SPLIT_ID = re.compile(r"([a-z_]+)-\d{4,}")
_WELCOME = "-= Welcome to TextWorld, ALFRED! =- "
_ARRIVAL = re.compile(r"You arrive at loc \d+\. ")
_PRICE = re.compile(r", and price lower than [\d.]+ dollars")
_ANY_PRICE = ", and price lower than <price> dollars"


@dataclass(frozen=True)
class Divergence:
    """Where the env answered otherwise than recorded: ``step`` (0: after reset, t: after action t),
    the ``field``, the recorded value and the env's, and the action sent (``None`` at step 0)."""

    step: int
    field: str
    expected: Any
    got: Any
    action: str | None = None

    def describe(self) -> str:
        """One line: where, what was recorded, what the env gave."""
        after = f" after {self.action!r}" if self.action is not None else ""
        return f"step {self.step}{after}: {self.field} recorded {self.expected!r:.200}, env gave {self.got!r:.200}"


@dataclass
class ReplayReport:
    """The outcome of replaying one trajectory.

    ``steps``: actions replayed; ``exact`` / ``loose`` / ``unrecorded``: observations (the reset's
    included) equal byte for byte, equal only after the loose normalisation, not recorded;
    ``divergences``: every difference found, in step order; ``replayed``: the env's own trajectory.
    """

    env_id: str
    task_id: str
    steps: int = 0
    exact: int = 0
    loose: int = 0
    unrecorded: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    replayed: Trajectory | None = None

    @property
    def ok(self) -> bool:
        """Whether the env answered as recorded."""
        return not self.divergences

    @property
    def first_divergence(self) -> Divergence | None:
        return self.divergences[0] if self.divergences else None

    def summary(self) -> str:
        """One line: the task, the observation counts and the first divergence, if any."""
        counts = (f"{self.exact} exact, {self.loose} loose, {self.unrecorded} unrecorded "
                  f"of {self.steps + 1} observations")
        verdict = "matches" if self.ok else f"first divergence at {self.divergences[0].describe()}"
        return f"{self.env_id} {self.task_id or '(no task id)'}: {counts}; {verdict}"


def _loose_form(env_id: str, text: str, task: str) -> str:
    text = " ".join(text.split())
    if env_id == ALFWORLD:
        text = _ARRIVAL.sub("", text.removeprefix(_WELCOME))
    elif env_id == WEBSHOP:
        text = _PRICE.sub(_ANY_PRICE, text)
        head = f"Instruction: [SEP] {_PRICE.sub(_ANY_PRICE, ' '.join(task.split()))} [SEP]"
        text = text[len(head):] if text.startswith(head) else text.removeprefix("[SEP]")
    return text.strip()


def compare_observations(env_id: str, recorded: str, got: str, task: str = "", loose: bool = True) -> str:
    """``"exact"``, ``"loose"`` (equal after the module's normalisation) or ``"differs"``.

    Example:
        >>> compare_observations("SPA-ALFWorld-v0", "You arrive at loc 3. On the desk 1, you see a pen 1.",
        ...                      "On the desk 1, you see a pen 1.")
        'loose'
        >>> page = "Instruction: [SEP] i need a lamp [SEP] Back to Search [SEP] Page 1 (Total results: 0)"
        >>> compare_observations("SPA-WebShop-v0", "[SEP] Back to Search [SEP] Page 1 (Total results: 0)", page,
        ...                      task="i need a lamp")
        'loose'
    """
    if recorded == got:
        return "exact"
    if loose and _loose_form(env_id, recorded, task) == _loose_form(env_id, got, task):
        return "loose"
    return "differs"


def replay_env_kwargs(trajectory: Trajectory, **env_kwargs: Any) -> dict[str, Any]:
    """The env's keyword arguments for a trajectory: ``env_kwargs``, plus ``split`` from a
    ``<split>-NNNN`` task id (``all`` for a WebShop trajectory without task id) and WebShop's
    ``text_rich`` mode for ``text_rich`` pages, unless given.

    Example:
        >>> walk = Trajectory("SPA-WebShop-v0", "test-0007", "i need a lamp", "WebShop\\nInstruction: \\n...")
        >>> replay_env_kwargs(walk, num_products="tiny")
        {'num_products': 'tiny', 'split': 'test', 'observation_mode': 'text_rich'}
    """
    kwargs = dict(env_kwargs)
    split = _SPLIT_ID.fullmatch(trajectory.task_id)
    if split:
        kwargs.setdefault("split", split.group(1))
    elif trajectory.env_id == WEBSHOP and not trajectory.task_id:
        kwargs.setdefault("split", "all")  # the goal is looked up by its instruction among all of them
    if trajectory.env_id == WEBSHOP and trajectory.initial_observation.startswith("WebShop\n"):
        kwargs.setdefault("observation_mode", "text_rich")
    return kwargs


def make_replay_env(trajectory: Trajectory, **env_kwargs: Any) -> gym.Env:
    """The env a trajectory is replayed in: ``gym.make(env_id, **replay_env_kwargs(...)).unwrapped``
    (no step limit: the recording decides where the episode ends)."""
    return gym.make(trajectory.env_id, **replay_env_kwargs(trajectory, **env_kwargs)).unwrapped


def reset_options(env: gym.Env, trajectory: Trajectory) -> dict[str, Any]:
    """The ``reset`` options that start the trajectory's task in ``env``; ``ValueError`` when there
    are none (no task id, and not a WebShop goal the env has)."""
    if trajectory.task_id:
        return {"task_id": trajectory.task_id}
    suite = getattr(env.unwrapped, "suite", None)
    if trajectory.env_id == WEBSHOP and suite is not None:
        key = goal_key(trajectory.task)
        for index in range(len(suite)):
            if goal_key(suite.goal(index)["instruction_text"]) == key:
                return {"task_index": index}
        raise ValueError(f"no goal of this WebShop env has the instruction {trajectory.task!r}: replay on the "
                         f"catalog the trajectory was recorded on (data_dir=, split='all')")
    raise ValueError(f"the trajectory has no task id, so there is no task to replay it on ({trajectory.env_id})")


def replay(
    trajectory: Trajectory,
    env: gym.Env | None = None,
    *,
    fields: Sequence[str] = ("observation",),
    loose: bool = True,
    env_kwargs: dict[str, Any] | None = None,
) -> ReplayReport:
    """Replay ``trajectory`` in ``env`` (default: :func:`make_replay_env` with ``env_kwargs``, closed
    afterwards) and compare the ``fields`` of :data:`FIELDS`; the report lists every divergence."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown replay fields {sorted(unknown)}; expected some of {', '.join(FIELDS)}")
    if env is None:
        env = make_replay_env(trajectory, **(env_kwargs or {}))
        try:
            return replay(trajectory, env, fields=fields, loose=loose)
        finally:
            env.close()
    observation, info = env.reset(options=reset_options(env, trajectory))
    replayed = Trajectory(trajectory.env_id, info["task_id"], info["task"], observation)
    report = ReplayReport(trajectory.env_id, trajectory.task_id, len(trajectory.steps), replayed=replayed)
    task = trajectory.task or info["task"]

    def check_observation(step: int, recorded: str, got: str, action: str | None) -> None:
        verdict = compare_observations(trajectory.env_id, recorded, got, task, loose)
        if verdict == "exact":
            report.exact += 1
        elif verdict == "loose":
            report.loose += 1
        else:
            report.divergences.append(Divergence(step, "observation", recorded, got, action))

    if "observation" in fields:
        check_observation(0, trajectory.initial_observation, observation, None)
    for number, step in enumerate(trajectory.steps, start=1):
        state_key = info.get("state_key")
        observation, reward, _, _, info = env.step(step.action)
        replayed.add_step(step.action, observation, reward, info["grounded"], step.raw_output, state_key)
        if "observation" in fields:
            if number == len(trajectory.steps) and step.observation == "":
                report.unrecorded += 1
            else:
                check_observation(number, step.observation, observation, step.action)
        if "reward" in fields and abs(float(reward) - step.reward) > 1e-9:
            report.divergences.append(Divergence(number, "reward", step.reward, float(reward), step.action))
        if "grounded" in fields and bool(info["grounded"]) != step.grounded:
            report.divergences.append(Divergence(number, "grounded", step.grounded, bool(info["grounded"]),
                                                 step.action))
    replayed.won = bool(info["won"])
    if "won" in fields and replayed.won != trajectory.won:
        report.divergences.append(Divergence(len(trajectory.steps), "won", trajectory.won, replayed.won))
    return report


def replay_all(
    trajectories: Iterable[Trajectory],
    *,
    fields: Sequence[str] = ("observation",),
    loose: bool = True,
    env_kwargs: dict[str, Any] | None = None,
) -> list[ReplayReport]:
    """:func:`replay` each trajectory, building each distinct env (env id, split, mode) once."""
    envs: dict[tuple[str, str], gym.Env] = {}
    reports = []
    for trajectory in trajectories:
        kwargs = replay_env_kwargs(trajectory, **(env_kwargs or {}))
        key = (trajectory.env_id, repr(sorted(kwargs.items())))
        if key not in envs:
            envs[key] = gym.make(trajectory.env_id, **kwargs).unwrapped
        reports.append(replay(trajectory, envs[key], fields=fields, loose=loose))
    for env in envs.values():
        env.close()
    return reports
