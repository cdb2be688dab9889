"""Play an :class:`~.policy.LLMPolicy` in several envs at once (batched generation) and evaluate it.

Every env runs one episode; at each round the policy generates the next turn for all live
episodes in one batch, the action is parsed from the text and sent to the env. Each episode
keeps its exact token ids and action spans (:class:`~.conversation.TokenConversation`) for
training, and its :class:`~spa_gym.data.trajectories.Trajectory` (raw model output included).

Example:
    >>> import gymnasium as gym, spa_gym
    >>> from spa_gym.training.tiny import tiny_model_path
    >>> policy = LLMPolicy.from_pretrained(tiny_model_path())
    >>> envs = [gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=3) for _ in range(2)]
    >>> episodes = play_episodes(policy, envs, seeds=[0, 1], max_new_tokens=8)
    >>> [len(e.trajectory.steps) for e in episodes]
    [3, 3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from ..data.trajectories import Trajectory
from .conversation import TokenConversation
from .incremental import IncrementalGenerator
from .policy import LLMPolicy
from .prompts import build_messages, get_prompt, parse_action

#: Where rollouts are generated: transformers (KV-cached, any device) or vLLM (GPU, the ``vllm`` extra).
GENERATION_BACKENDS = ("transformers", "vllm")


def make_generator(policy: LLMPolicy, backend: str, seed: int = 0) -> Any:
    """``generator=`` for :func:`play_episodes`: None for transformers' generation, or a
    :class:`~.vllm_generator.VLLMGenerator` of ``policy``."""
    if backend not in GENERATION_BACKENDS:
        raise ValueError(f"generation backend must be one of {GENERATION_BACKENDS}, not {backend!r}")
    if backend == "transformers":
        return None
    from .vllm_generator import VLLMGenerator

    return VLLMGenerator(policy, seed=seed)


@dataclass
class AgentEpisode:
    """One episode of the agent: the token view (for training) and the trajectory (for rewards, logs)."""

    conversation: TokenConversation
    trajectory: Trajectory
    terminated: bool = False
    truncated: bool = False
    step_logprobs: list[list[float]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


def play_episodes(
    policy: LLMPolicy,
    envs: Sequence[gym.Env],
    seeds: Sequence[int | None] | None = None,
    options: Sequence[dict | None] | None = None,
    style: str = "compact",
    greedy: bool = False,
    temperature: float = 1.0,
    max_new_tokens: int = 32,
    kv_cache: bool = True,
    history_window: int | None = None,
    generator: Any = None,
) -> list[AgentEpisode]:
    """One episode per env, generated in batches; returns them in env order.

    ``kv_cache``: keep the batch's KV cache across turns (:class:`~.incremental.IncrementalGenerator`),
    so a turn prefills only its new tokens; ``False`` re-encodes every conversation at every turn.
    ``history_window``: the policy sees the opening messages and only the last ``k`` turns
    (:meth:`~.conversation.TokenConversation.window`); ``None`` (SPA-RL's setting) shows it all.
    Each episode's ``conversation`` still records the whole history.
    ``generator``: another backend with :class:`~.incremental.IncrementalGenerator`'s interface
    (e.g. :class:`~.vllm_generator.VLLMGenerator`), used instead of the two above.
    """
    seeds = list(seeds) if seeds is not None else [None] * len(envs)
    options = list(options) if options is not None else [None] * len(envs)
    episodes = []
    state_keys: list[str | None] = []  # each episode's current state, the anchor of its next step
    for env, seed, option in zip(envs, seeds, options):
        obs, info = env.reset(seed=seed, options=option)
        state_keys.append(info.get("state_key"))
        env_id = env.spec.id if env.spec else type(env.unwrapped).__name__
        prompt = get_prompt(env_id, style)
        talk = TokenConversation(policy.tokenizer, build_messages(prompt, obs, []))
        episodes.append(AgentEpisode(talk, Trajectory(env_id, info["task_id"], info["task"], obs)))
    if generator is None and kv_cache:
        generator = IncrementalGenerator(policy)
    while live := [i for i, e in enumerate(episodes) if not e.done]:
        sampling = {"max_new_tokens": max_new_tokens, "do_sample": not greedy, "temperature": temperature}
        if generator is not None:
            by_env = generator.generate({i: episodes[i].conversation.window(history_window) for i in live}, **sampling)
            generations = [by_env[i] for i in live]
        else:
            generations = policy.generate([episodes[i].conversation.window(history_window) for i in live], **sampling)
        for i, generation in zip(live, generations):
            episode = episodes[i]
            action = parse_action(generation.text, style)
            obs, reward, terminated, truncated, info = envs[i].step(action)
            episode.conversation.add_action(generation)
            episode.trajectory.add_step(action, obs, reward, info["grounded"], raw_output=generation.text,
                                        state_key=state_keys[i])
            state_keys[i] = info.get("state_key")
            episode.trajectory.won = bool(info["won"])
            episode.terminated, episode.truncated = terminated, truncated
            if not episode.done:
                episode.conversation.add_observation(obs)
    return episodes


@dataclass
class Interval:
    """A rate or mean with its 95% confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def wilson_interval(successes: float, total: int, z: float = 1.96) -> Interval:
    """Wilson score interval of a proportion (well-behaved at 0 and 1 and for small samples)."""
    if total == 0:
        return Interval(math.nan, math.nan, math.nan)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(values: Sequence[float], z: float = 1.96) -> Interval:
    """Mean with a normal-approximation interval (t-free; fine for the tens of episodes we evaluate)."""
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = sum(values) / n
    if n == 1:
        return Interval(mean, mean, mean)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = z * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


@dataclass
class Evaluation:
    """SPA-RL's three metrics over a set of episodes."""

    episodes: int
    success_rate: Interval
    average_reward: Interval
    grounding_accuracy: Interval  # share of grounded (executable) steps


def evaluate(trajectories: Sequence[Trajectory]) -> Evaluation:
    """Success rate, average final reward and grounding accuracy, with 95% intervals."""
    steps = [step.grounded for t in trajectories for step in t.steps]
    return Evaluation(
        episodes=len(trajectories),
        success_rate=wilson_interval(sum(t.won for t in trajectories), len(trajectories)),
        average_reward=mean_interval([t.final_reward for t in trajectories]),
        grounding_accuracy=wilson_interval(sum(steps), len(steps)),
    )
