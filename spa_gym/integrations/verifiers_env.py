"""spa-gym's text envs as a `verifiers <https://pypi.org/project/verifiers/>`_ environment (verifiers >= 0.4).

verifiers 0.4 is the "v1" stack that prime-rl trains with (``import verifiers.v1 as vf``); its
``MultiTurnEnv``/``Rubric`` API (v0) is gone. An environment there is a **taskset** (the rows), the
**agents** that play them (a harness x model x runtime) and an ``Env`` whose ``run(task, agents)``
drives one episode. This module provides all three for ``SPA-ALFWorld-v0``, ``SPA-WebShop-v0`` and
``SPA-VirtualHome-v0``:

- :class:`SPAGymTaskset`: one row per task of a split. The row's prompt is the agent's chat from
  :func:`spa_gym.agents.prompts.build_messages` (system instruction, the in-context expert example in
  the react style, the task's initial observation); ``id`` is the env's task id.
- :class:`SPAGymEnv`: each episode makes its **own** ``gym.make(env_id)``, resets it to the row's task
  and plays: the model's reply is parsed with :func:`~spa_gym.agents.prompts.parse_action`, stepped,
  and the observation goes back as the next user turn, formatted by
  :func:`~spa_gym.agents.prompts.format_observation`. It stops when the episode terminates or is
  truncated (the env's step limit, or ``max_turns``), or when verifiers ends the run (its own
  ``--env.agent.max-turns``, token limits, timeouts, a failed model call).
- :class:`SPAGymTask`: scoring. The trace's reward is ``outcome``, the env's own final reward (1.0 on
  success in ALFWorld and VirtualHome, the purchase score in WebShop); metrics ``won``, ``steps``,
  ``grounding`` (share of executed commands), ``truncated`` and, with a progress estimator,
  ``progress`` (sum of c_t) and ``spa_return`` (sum of SPA's per-step rewards).
- :class:`SPAChatHarness`: the default program of the agent seat, a tool-less chat turn run in
  process (one model call per segment through verifiers' interception, so traces, token ids and
  limits work as with any harness); no sandbox, no ``uv``. Any harness that can resume a
  conversation (e.g. verifiers' ``null``) can be pinned instead.

Reward granularity: verifiers scores a whole trace (``trace.rewards``, summed into ``trace.reward``);
its trainers derive per-token advantages from that one number. SPA's per-step rewards are
therefore recorded, not consumed: ``trace.info["spa_gym"]["steps"][t]`` holds step t's action,
observation, env reward, grounding and (with an estimator) ``progress`` c_t and ``spa_reward``
r_t = alpha * c_t + beta * g_t (+ R), one entry per assistant turn in order, for a trainer that
assigns per-turn credit itself (``MessageNode.advantages``).

verifiers finds a taskset by importing a top-level module named after its id: spa-gym installs
``spa_gym_verifiers`` (id ``spa-gym-verifiers``), which re-exports this module, for ``vf-eval`` and
prime-rl's env workers; importing this module also registers it under that name in the process.

Example (building it needs no model; :func:`run_episodes` plays it against any OpenAI-compatible
endpoint, ``vf-eval`` and prime-rl as any verifiers environment):
    >>> env = load_environment("SPA-ALFWorld-v0", split="valid_unseen", num_tasks=2)
    >>> for task in env.taskset:
    ...     print(task.data.id, task.data.task)
    valid_unseen-0000 put a cool pan in cabinet
    valid_unseen-0001 clean some bowl and put it in diningtable
    >>> [message.role for message in next(iter(env.taskset)).data.prompt][-3:]   # example's end, then the task
    ['user', 'assistant', 'user']
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import gymnasium as gym
import httpx
import verifiers.v1 as vf
from pydantic import BaseModel, Field, PrivateAttr
from verifiers.v1.dialects.chat import message_to_wire
from verifiers.v1.errors import MODEL_TRANSPORT_ERROR_EXIT_CODE

import spa_gym  # noqa: F401  (registers the env ids)

from ..agents.prompts import build_messages, format_observation, get_prompt, parse_action
from ..progress.spa_reward import SPAReward

#: The taskset (and harness) id verifiers resolves to this module.
TASKSET_ID = "spa-gym-verifiers"
#: The top-level module name verifiers imports for :data:`TASKSET_ID`.
MODULE_ALIAS = "spa_gym_verifiers"


# --- rows -------------------------------------------------------------------------------


class SPAGymTaskData(vf.TaskData):
    """One task of a spa-gym env; ``id`` is its task id, ``prompt`` the agent's chat up to the task."""

    env_id: str
    split: str | None = None
    task_id: str
    task_index: int
    seed: int = 0
    style: Literal["react", "compact"] = "react"
    task: str
    """The task's text (``info["task"]``)."""
    observation: str
    """The initial observation, as ``reset(seed=seed, options={"task_id": task_id})`` returns it."""


class SPAGymStep(BaseModel):
    """One env step of an episode."""

    action: str
    """The command parsed from the model's reply (what the env was given)."""
    observation: str
    reward: float
    """The env's own (sparse) reward of the step."""
    grounded: bool
    progress: float | None = None
    """c_t, the estimator's progress contribution (with an estimator)."""
    spa_reward: float | None = None
    """SPA's reward of the step, alpha * c_t + beta * g_t (+ the env's reward)."""


class SPAGymState(vf.State):
    """The rollout's state: its env's steps so far; the rollout's own env instance is :attr:`env`."""

    steps: list[SPAGymStep] = Field(default_factory=list)
    terminated: bool = False
    truncated: bool = False
    won: bool = False
    _env: gym.Env | None = PrivateAttr(default=None)

    @property
    def env(self) -> gym.Env | None:
        """This rollout's own spa-gym env while its episode runs (``None`` before and after)."""
        return self._env

    @property
    def final_reward(self) -> float:
        """The env's reward at the last step (the outcome R); 0.0 before any step."""
        return self.steps[-1].reward if self.steps else 0.0


class SPAGymTask(vf.Task[SPAGymTaskData, SPAGymState, vf.TaskConfig]):
    """Scoring of one episode: reward ``outcome`` (the env's final reward) and episode metrics."""

    @property
    def key(self) -> str:
        return f"{self.data.env_id}:{self.data.task_id}"

    @vf.reward
    async def outcome(self, trace: vf.Trace) -> float:
        """The env's final reward R: the benchmark's own score of the episode."""
        return trace.state.final_reward

    @vf.metric
    async def episode(self, trace: vf.Trace) -> dict[str, float]:
        """``won``, ``steps``, ``grounding``, ``truncated``; ``progress`` and ``spa_return`` with an estimator."""
        state: SPAGymState = trace.state
        steps = state.steps
        metrics = {
            "won": float(state.won),
            "steps": float(len(steps)),
            "grounding": sum(step.grounded for step in steps) / len(steps) if steps else 0.0,
            "truncated": float(state.truncated),
        }
        if steps and steps[0].progress is not None:
            metrics["progress"] = sum(step.progress or 0.0 for step in steps)
            metrics["spa_return"] = sum(step.spa_reward or 0.0 for step in steps)
        return metrics


class SPAGymTasksetConfig(vf.TasksetConfig):
    """Which env, split and tasks (``--env.taskset.*`` on the verifiers CLI)."""

    id: str = TASKSET_ID
    env_id: str = "SPA-ALFWorld-v0"
    split: str | None = None
    """The env's split; ``None`` is ``gym.make``'s default (``"train"``). SPA-RL evaluates on
    ``valid_unseen`` (ALFWorld), ``test`` (WebShop) and ``test_unseen`` (VirtualHome)."""
    num_tasks: int | None = Field(None, ge=1)
    """The first ``num_tasks`` tasks of the split (``None``: all)."""
    max_turns: int | None = Field(None, ge=1)
    """Model turns (= env steps) per episode, as the env's ``max_episode_steps``; ``None`` keeps
    the env's SPA-RL step limit (40 / 10 / 40)."""
    style: Literal["react", "compact"] = "react"
    """The prompt style of :mod:`spa_gym.agents.prompts`."""
    seed: int = 0
    """The seed every episode's reset gets, with its task id."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More ``gym.make`` arguments (JSON values: ``data_dir``, ``num_products``, ``expert``, ...)."""

    def make_env(self) -> gym.Env:
        """A fresh env of these settings."""
        kwargs = dict(self.env_kwargs)
        if self.split is not None:
            kwargs["split"] = self.split
        if self.max_turns is not None:
            kwargs["max_episode_steps"] = self.max_turns
        return gym.make(self.env_id, **kwargs)


class SPAGymTaskset(vf.Taskset[SPAGymTask, SPAGymTasksetConfig]):
    """The tasks of a split, one row each, in the env's task order."""

    def load(self) -> Iterator[SPAGymTask]:
        config = self.config
        prompt = get_prompt(config.env_id, config.style)
        env = config.make_env()
        try:
            count = env.unwrapped.num_tasks()
            if config.num_tasks is not None:
                count = min(count, config.num_tasks)
            for index in range(count):
                observation, info = env.reset(seed=config.seed, options={"task_index": index})
                messages = build_messages(prompt, observation)
                yield SPAGymTask(
                    SPAGymTaskData(
                        id=info["task_id"],
                        name=f"{config.env_id}/{info['task_id']}",
                        system_prompt=messages[0]["content"],
                        prompt=messages[1:],
                        env_id=config.env_id,
                        split=config.split,
                        task_id=info["task_id"],
                        task_index=index,
                        seed=config.seed,
                        style=config.style,
                        task=info["task"],
                        observation=observation,
                    ),
                    config.task,
                )
        finally:
            env.close()


# --- the agent's program ----------------------------------------------------------------


class SPAChatHarness(vf.Harness[vf.HarnessConfig]):
    """A tool-less chat turn, in process: each segment is one chat completion of the conversation.

    The request goes to the rollout's interception endpoint (so verifiers records the turn, its
    tokens and limits as for any harness); the model and sampling are the run's. A refused or
    failed call ends the segment; verifiers records why.
    """

    APPENDS_SYSTEM_PROMPT = True
    SUPPORTS_RESUME = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def launch(
        self,
        ctx: vf.ModelContext,
        trace: vf.Trace,
        runtime: vf.Runtime,
        endpoint: str,
        secret: str,
        mcp_urls: dict[str, str],
        data: vf.TaskData,
    ) -> vf.ProgramResult:
        system, prompt = self.resolve_prompt(data)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        else:
            messages.extend(message_to_wire(message) for message in prompt or [])
        try:
            async with httpx.AsyncClient(timeout=None) as client:
                response = await client.post(
                    endpoint.rstrip("/") + "/chat/completions",
                    json={"model": ctx.model, "messages": messages},
                    headers={"Authorization": f"Bearer {secret}"},
                )
        except httpx.TransportError as error:
            return vf.ProgramResult(exit_code=MODEL_TRANSPORT_ERROR_EXIT_CODE, stdout="", stderr=repr(error))
        if response.status_code >= 400:
            return vf.ProgramResult(exit_code=1, stdout="",
                                    stderr=f"model call failed ({response.status_code}): {response.text}")
        return vf.ProgramResult(exit_code=0, stdout=response.text, stderr="")


# --- the episode --------------------------------------------------------------------------


class SPAGymEnvConfig(vf.EnvConfig):
    """The env's config: the taskset, the ``agent`` seat (local runtime by default) and SPA settings."""

    taskset: SPAGymTasksetConfig = SPAGymTasksetConfig()
    agent: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())
    """The policy's seat. The default harness is :class:`SPAChatHarness` in the local runtime."""
    estimator: str | None = None
    """A saved :class:`~spa_gym.progress.ProgressEstimator` folder: record SPA's per-step rewards."""
    alpha: float = 1.0
    beta: float = 0.5
    keep_final_reward: bool = True


class SPAGymEnv(vf.Env[SPAGymEnvConfig]):
    """One episode per task: the model plays the row's task in its own spa-gym env instance."""

    def __init__(self, config: SPAGymEnvConfig) -> None:
        super().__init__(config)
        self.estimator: Any = None
        if config.estimator is not None:
            from ..progress import ProgressEstimator

            self.estimator = ProgressEstimator.from_pretrained(config.estimator)
        self.spa_reward = SPAReward(alpha=config.alpha, beta=config.beta, keep_final_reward=config.keep_final_reward)

    def make_env(self) -> gym.Env:
        """A fresh env for one episode (with :class:`~spa_gym.wrappers.SPARewardWrapper` given an estimator)."""
        env = self.taskset.config.make_env()
        if self.estimator is not None:
            from ..wrappers import SPARewardWrapper

            env = SPARewardWrapper(env, self.estimator, self.spa_reward)
        return env

    async def run(self, task: vf.Task, agents: vf.Agents) -> None:
        data: SPAGymTaskData = task.data
        env = self.make_env()
        state: SPAGymState | None = None
        try:
            observation, info = env.reset(seed=data.seed, options={"task_id": data.task_id})
            if observation != data.observation:
                raise ValueError(f"{data.env_id} task {data.task_id} opened with another observation than its row "
                                 "holds: the row was made with other env settings")
            async with agents.agent.interaction(task) as interaction:
                state = interaction.trace.state
                state._env = env
                segment = await interaction.turn()  # the prompt opens: the model speaks first
                while not segment.terminated:
                    action = parse_action(segment.last_reply, data.style)
                    observation, reward, terminated, truncated, info = env.step(action)
                    spa = "sparse_reward" in info
                    state.steps.append(SPAGymStep(
                        action=action,
                        observation=observation,
                        reward=float(info["sparse_reward"]) if spa else float(reward),
                        grounded=bool(info.get("grounded", False)),
                        progress=float(info["progress"]) if spa else None,
                        spa_reward=float(reward) if spa else None,
                    ))
                    state.won = bool(info.get("won", False))
                    state.terminated, state.truncated = bool(terminated), bool(truncated)
                    if terminated or truncated:
                        break
                    segment = await interaction.turn(format_observation(observation, data.style))
                interaction.trace.info["spa_gym"] = {
                    "env_id": data.env_id,
                    "task_id": data.task_id,
                    "final_reward": state.final_reward,
                    "won": state.won,
                    "terminated": state.terminated,
                    "truncated": state.truncated,
                    "steps": [step.model_dump(exclude_none=True) for step in state.steps],
                }
        finally:
            env.close()
            if state is not None:
                state._env = None  # finished traces outlive their episode; the env does not


# --- entry points -------------------------------------------------------------------------


def env_config(
    env_id: str = "SPA-ALFWorld-v0",
    split: str | None = None,
    num_tasks: int | None = None,
    max_turns: int | None = None,
    style: Literal["react", "compact"] = "react",
    *,
    seed: int = 0,
    estimator: str | os.PathLike[str] | None = None,
    spa_reward: SPAReward = SPAReward(),
    **env_kwargs: Any,
) -> SPAGymEnvConfig:
    """The :class:`SPAGymEnvConfig` of :func:`load_environment`'s arguments, e.g. for
    ``verifiers.v1.cli.eval.runner.run_eval(EvalConfig(env=env_config(...), ...))``.

    ``estimator`` here is a saved estimator folder (a config holds no live objects).
    """
    return SPAGymEnvConfig(
        taskset=SPAGymTasksetConfig(env_id=env_id, split=split, num_tasks=num_tasks, max_turns=max_turns,
                                    style=style, seed=seed, env_kwargs=env_kwargs),
        estimator=os.fspath(estimator) if estimator is not None else None,
        alpha=spa_reward.alpha,
        beta=spa_reward.beta,
        keep_final_reward=spa_reward.keep_final_reward,
    )


def load_environment(
    env_id: str = "SPA-ALFWorld-v0",
    split: str | None = None,
    num_tasks: int | None = None,
    max_turns: int | None = None,
    style: Literal["react", "compact"] = "react",
    *,
    seed: int = 0,
    estimator: Any = None,
    spa_reward: SPAReward = SPAReward(),
    **env_kwargs: Any,
) -> SPAGymEnv:
    """A verifiers environment that plays ``env_id``'s tasks.

    Args:
        env_id: ``SPA-ALFWorld-v0``, ``SPA-WebShop-v0`` or ``SPA-VirtualHome-v0``.
        split: the env's split (``None``: ``gym.make``'s default, ``"train"``).
        num_tasks: the first ``num_tasks`` tasks (``None``: the whole split).
        max_turns: model turns per episode, as the env's step limit (``None``: SPA-RL's limit).
        style: ``"react"`` (instruction, in-context example, "Thought: ... Action: ...") or ``"compact"``.
        seed: the seed of every episode's reset.
        estimator: ``None``, a :class:`~spa_gym.progress.ProgressEstimator` or a saved one's folder:
            record SPA's per-step rewards (``spa_reward``'s weights) and the metrics
            ``progress`` / ``spa_return``. The trace's reward stays the env's outcome.
        env_kwargs: more ``gym.make`` arguments (JSON values).
    """
    live = estimator is not None and not isinstance(estimator, (str, os.PathLike))
    config = env_config(env_id, split, num_tasks, max_turns, style, seed=seed,
                        estimator=None if live else estimator, spa_reward=spa_reward, **env_kwargs)
    env = SPAGymEnv(config)
    if live:
        env.estimator = estimator
    return env


async def run_episodes(
    env: vf.Env,
    *,
    model: str,
    client: vf.BaseClientConfig,
    tasks: Iterable[vf.Task] | None = None,
    rollouts_per_task: int = 1,
    max_concurrent: int | None = None,
    sampling: vf.SamplingConfig | None = None,
) -> list[vf.Episode]:
    """Play ``rollouts_per_task`` episodes of each task (default: the whole taskset) with ``model``
    behind ``client`` (any OpenAI-compatible endpoint), as ``vf-eval`` runs them in process
    (``env.serving()``, then ``env.run_slot`` per episode); episodes in task order.

    Example::

        env = load_environment("SPA-WebShop-v0", split="test", num_tasks=20)
        client = vf.EvalClientConfig(base_url="http://localhost:8000/v1", api_key_var="OPENAI_API_KEY")
        episodes = asyncio.run(run_episodes(env, model="Qwen/Qwen3-4B", client=client))
        [episode.traces[0].reward for episode in episodes]
    """
    ctx = vf.ModelContext(model=model, client=client, sampling=sampling or vf.SamplingConfig())
    planned = list(env.taskset if tasks is None else tasks)
    semaphore = asyncio.Semaphore(max_concurrent) if max_concurrent else None
    async with env.serving():
        slots = [slot for task in planned for slot in env.slots(task, rollouts_per_task)]
        return list(await asyncio.gather(*(env.run_slot(slot, ctx, semaphore) for slot in slots)))


# verifiers imports a taskset (and its env and harness) by a top-level module name: this one, in process.
sys.modules.setdefault(MODULE_ALIAS, sys.modules[__name__])

__all__ = [
    "MODULE_ALIAS",
    "TASKSET_ID",
    "SPAChatHarness",
    "SPAGymEnv",
    "SPAGymEnvConfig",
    "SPAGymState",
    "SPAGymStep",
    "SPAGymTask",
    "SPAGymTaskData",
    "SPAGymTaskset",
    "SPAGymTasksetConfig",
    "env_config",
    "load_environment",
    "run_episodes",
]
