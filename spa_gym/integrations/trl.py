"""TRL (>= 1.16) ``GRPOTrainer`` on spa-gym's multi-turn envs, with the env's outcome and SPA's rewards.

``pip install "spa-gym[trl]"``. :class:`EnvRollout` is a ``rollout_func``: for each prompt of a
batch (a task id, from :meth:`EnvRollout.dataset`) it plays one episode with the trainer's current
model, batched and KV-cached (:func:`~spa_gym.agents.rollout.play_episodes`), and returns the
episode as one prompt and one completion of token ids: each turn's generated ids verbatim, the
env's answers in between, and ``env_mask`` (1 on the model's tokens) so that only the model's
tokens get loss. Nothing is re-tokenised. Each episode's layout is an
:class:`~spa_gym.integrations.turns.EpisodeTokens` (``rollout.last_episodes``).

Why ``rollout_func`` and not ``environment_factory``: TRL 1.16's ``environment_factory`` exposes an
env's methods as tools, so the model must write tool calls that TRL parses with a response
template it knows only for some chat templates (Qwen, Llama 3, GLM, gpt-oss, ...), and the env
answers in tool messages. The chat templates of the tiny model and of SmolLM2-135M-Instruct cannot
render tool calls (``GRPOTrainer`` raises "The provided chat template does not support tool
calling" at construction), and spa-gym's agents act by writing plain commands in chat turns, as
SPA-RL's do. ``rollout_func`` is TRL's hook for such custom multi-turn loops (experimental in TRL;
it warns once unless ``TRL_EXPERIMENTAL_SILENCE=1``).

Rewards (TRL's ``reward_funcs``, one number per episode, read from what the rollout recorded):

- ``env_outcome``: the env's return, the sum of its step rewards (the benchmark's final reward:
  1 on success in ALFWorld and VirtualHome, the purchase score in WebShop).
- ``spa_shaping`` (with an ``estimator``): ``sum_t (alpha * c_t + beta * g_t)``, SPA's terms of
  :class:`~spa_gym.progress.SPAReward`. TRL adds the reward functions (``reward_weights``), so the
  episode's reward is ``R + sum_t (alpha * c_t + beta * g_t)``, the sum of SPA's per-step rewards
  ``r_t``; GRPO normalises it within the group and gives every token of the episode that one
  advantage. This is the honest closest form of SPA that TRL's public API takes: its reward
  functions return one number per completion and ``GRPOTrainer`` computes one advantage per
  completion, so per-turn credit is lost.
- Per-turn credit: ``GRPOTrainer._compute_loss`` accepts advantages of shape ``(B, T)`` from a
  subclass (a comment there says so). :class:`TurnRewardGRPOTrainer` is that subclass: it keeps
  TRL's outcome advantage ``A_i`` on every token of episode ``i`` and adds, on the tokens of turn
  ``t``, ``turn_reward_weight * (s_it - mean) / (std + 1e-4)``, with ``s_it = alpha * c_it + beta *
  g_it`` and the mean and std over all turns of the episode's group (:func:`~.turns.group_turn_advantages`).
  SPA's contributions are fitted to sum to the outcome, each the progress its action made, so a
  turn's own reward is its credit here (no return is summed over later turns). This relies on
  GRPOTrainer internals (``_generate_and_score_completions``, the ``(B, T)`` path of the loss) and
  is tested on TRL 1.16 with every ``loss_type``.

Example (plays without TRL; ``max_episode_steps`` ends each episode after 2 turns)::

    >>> from transformers import AutoModelForCausalLM, AutoTokenizer
    >>> from spa_gym.training import resolve_model
    >>> path = resolve_model("tiny", "SPA-ALFWorld-v0")
    >>> model, tokenizer = AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    >>> rollout = EnvRollout("SPA-ALFWorld-v0", split="valid_unseen", max_episode_steps=2, max_new_tokens=8)
    >>> [episode] = rollout.play(model, tokenizer, ["valid_unseen-0000"], seeds=[0])
    >>> episode.num_turns, sum(episode.model_mask) == sum(end - start for start, end in episode.turn_spans)
    (2, True)

With TRL::

    from trl import GRPOConfig, GRPOTrainer
    rollout = EnvRollout("SPA-WebShop-v0", split="train", max_episode_steps=6, estimator="runs/estimator/best")
    trainer = GRPOTrainer(model=path, args=GRPOConfig(output_dir="runs/grpo", num_generations=4),
                          train_dataset=rollout.dataset(range(64)), reward_funcs=rollout.reward_funcs(),
                          rollout_func=rollout)
    trainer.train()
    # per-turn SPA credit instead of the episode sum:
    trainer = TurnRewardGRPOTrainer(model=path, args=..., train_dataset=rollout.dataset(range(64)),
                                    reward_funcs=rollout.reward_funcs(per_turn=True), rollout_func=rollout)

Limitations: the model sees the whole history (a history window would train on a context other
than the one it sampled in); sampling honours ``temperature`` only (other sampling settings of
``GRPOConfig`` raise); ``logprobs`` is ``None``, as in TRL's own transformers generation (the
sampling log-probabilities only serve vLLM's importance correction); generation uses the trainer's
model, not vLLM; ``max_completion_length`` does not cut episodes (``max_episode_steps`` and
``max_new_tokens`` bound them); a turn cut at ``max_new_tokens`` is closed with the token
:class:`~spa_gym.agents.conversation.TokenConversation` appends, and TRL counts an episode whose
last token is not an end-of-sequence id as clipped (``mask_truncated_completions`` drops it).
Unlike the other adapters this module imports :mod:`spa_gym.agents` (prompts, policy, rollouts).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import torch

from ..agents.policy import LLMPolicy
from ..agents.prompts import PromptStyle, get_prompt
from ..agents.rollout import play_episodes
from ..progress.spa_reward import SPAReward
from .turns import EpisodeTokens, add_spa_rewards, group_turn_advantages

if TYPE_CHECKING:
    from datasets import Dataset

    from ..progress.estimator import ProgressEstimator

#: GRPOConfig sampling settings the rollout does not apply, with the value that means "off".
_UNSUPPORTED_SAMPLING = {"top_p": 1.0, "top_k": 0, "min_p": None, "repetition_penalty": 1.0}


class EnvRollout:
    """A TRL ``rollout_func`` that plays one spa-gym episode per prompt (a task id) with the trainer's model.

    Args:
        env_id: a spa-gym env id (its agent prompt comes from :mod:`spa_gym.agents.prompts`).
        split: the env's split (its tasks are the prompts); ``None``: the env's default.
        style: ``"compact"`` (bare commands, for tiny models) or ``"react"`` (Thought/Action turns).
        max_new_tokens: tokens per turn.
        max_episode_steps: the env's step limit (``None``: SPA-RL's, 40 / 10 / 40).
        estimator: a :class:`~spa_gym.progress.ProgressEstimator` or a saved folder: SPA's rewards.
        reward: SPA's weights (``alpha``, ``beta``).
        env_kwargs: more arguments for ``gym.make``.
    """

    def __init__(
        self,
        env_id: str,
        *,
        split: str | None = None,
        style: PromptStyle = "compact",
        max_new_tokens: int = 32,
        max_episode_steps: int | None = None,
        estimator: ProgressEstimator | str | os.PathLike[str] | None = None,
        reward: SPAReward = SPAReward(),
        env_kwargs: dict[str, Any] | None = None,
    ):
        import spa_gym  # noqa: F401  (registers the env ids)

        get_prompt(env_id, style)  # an env without a prompt, or an unknown style, fails here
        self.env_id = env_id
        self.style = style
        self.max_new_tokens = max_new_tokens
        self.env_kwargs = dict(env_kwargs or {})
        if split is not None:
            self.env_kwargs["split"] = split
        if max_episode_steps is not None:
            self.env_kwargs["max_episode_steps"] = max_episode_steps
        if isinstance(estimator, (str, os.PathLike)):
            from ..progress.estimator import ProgressEstimator

            estimator = ProgressEstimator.from_pretrained(estimator)
        self.estimator = estimator
        self.reward = reward
        #: The layouts of the last batch the rollout played, in prompt order.
        self.last_episodes: list[EpisodeTokens] = []
        self._envs: list[gym.Env] = []
        self._calls = 0

    # -- data and rewards ---------------------------------------------------------------------------
    def task_ids(self) -> list[str]:
        """The task ids of the env's split, in order."""
        return list(self._env_pool(1)[0].unwrapped.task_ids())

    def dataset(self, tasks: Iterable[int | str] | None = None) -> Dataset:
        """A ``datasets.Dataset`` whose ``prompt`` column holds task ids (``tasks``: indices or ids; all by default)."""
        from datasets import Dataset

        known = self.task_ids()
        chosen = known if tasks is None else [known[task] if isinstance(task, int) else task for task in tasks]
        unknown = sorted(set(chosen) - set(known))
        if unknown:
            raise ValueError(f"unknown task ids {unknown[:3]} for {self.env_id}: expected {known[0]} to {known[-1]}")
        return Dataset.from_dict({"prompt": chosen})

    def reward_funcs(self, per_turn: bool = False) -> list[Callable[..., list[float]]]:
        """``[env_outcome]``, plus ``spa_shaping`` with an estimator unless ``per_turn`` (then
        :class:`TurnRewardGRPOTrainer` puts SPA's terms on the turns instead)."""
        if per_turn and self.estimator is None:
            raise ValueError("per-turn SPA rewards need an estimator: EnvRollout(..., estimator=...)")
        return [env_outcome] if self.estimator is None or per_turn else [env_outcome, spa_shaping]

    # -- playing ----------------------------------------------------------------------------------
    def play(self, model: Any, tokenizer: Any, task_ids: Sequence[str], *, seeds: Sequence[int | None] | None = None,
             temperature: float = 1.0, greedy: bool = False) -> list[EpisodeTokens]:
        """One episode per task id with ``model`` (a transformers causal LM), batched; their layouts.

        With an estimator, each turn also gets SPA's rewards (:func:`~.turns.add_spa_rewards`).
        """
        envs = self._env_pool(len(task_ids))[: len(task_ids)]
        policy = LLMPolicy(model, tokenizer)
        policy.value_head.to(next(model.parameters()).device)  # the policy's device is its head's
        policy.train(model.training)  # play_episodes restores this mode after generating
        played = play_episodes(policy, envs, seeds=seeds, options=[{"task_id": task} for task in task_ids],
                               style=self.style, greedy=greedy, temperature=temperature,
                               max_new_tokens=self.max_new_tokens)
        episodes = [
            EpisodeTokens.from_conversation(e.conversation.ids, e.conversation.opening_length,
                                            e.conversation.action_spans, e.trajectory,
                                            terminated=e.terminated, truncated=e.truncated)
            for e in played
        ]
        if self.estimator is not None:
            add_spa_rewards(episodes, self.estimator, self.reward)
        return episodes

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        """TRL's ``rollout_func(prompts, trainer)``: the episodes of ``prompts`` as TRL's generation output."""
        from transformers import ProcessorMixin
        from trl.models import unwrap_model_for_generation

        args = trainer.args
        for name, off in _UNSUPPORTED_SAMPLING.items():
            if getattr(args, name, off) != off:
                raise ValueError(f"EnvRollout samples with temperature only: set {name}={off!r} in GRPOConfig")
        for prompt in prompts:
            if not isinstance(prompt, str):
                raise TypeError("EnvRollout's prompts are task ids: build the dataset with EnvRollout.dataset()")
        rng = random.Random(f"{args.seed}-{trainer.state.global_step}-{self._calls}")
        self._calls += 1
        seeds = [rng.randrange(2**31) for _ in prompts]
        processing = trainer.processing_class
        tokenizer = processing.tokenizer if isinstance(processing, ProcessorMixin) else processing
        with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator,
                                         gather_deepspeed3_params=args.ds3_gather_for_generation,
                                         gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs) as model:
            self.last_episodes = self.play(model, tokenizer, list(prompts), seeds=seeds, temperature=args.temperature)
        return rollout_output(self.last_episodes)

    def _env_pool(self, size: int) -> list[gym.Env]:
        while len(self._envs) < size:
            self._envs.append(gym.make(self.env_id, **self.env_kwargs))
        return self._envs

    def close(self) -> None:
        """Close the envs the rollout made."""
        for env in self._envs:
            env.close()
        self._envs = []


def rollout_output(episodes: Sequence[EpisodeTokens]) -> dict[str, Any]:
    """Episodes in the form of TRL's ``rollout_func`` output: ``prompt_ids``, ``completion_ids``,
    ``logprobs`` (``None``), ``env_mask``, and per episode the fields the reward functions and
    :class:`TurnRewardGRPOTrainer` read (``outcome``, ``shaping``, ``turn_spans``, ``turn_rewards``,
    ``won``, ``num_turns``)."""
    return {
        "prompt_ids": [e.prompt_ids for e in episodes],
        "completion_ids": [e.completion_ids for e in episodes],
        "logprobs": None,
        "env_mask": [e.model_mask for e in episodes],
        "outcome": [e.outcome for e in episodes],
        "shaping": [None if e.spa_shaping is None else float(sum(e.spa_shaping)) for e in episodes],
        "turn_spans": [[list(span) for span in e.turn_spans] for e in episodes],
        "turn_rewards": [e.spa_shaping for e in episodes],
        "won": [e.won for e in episodes],
        "num_turns": [e.num_turns for e in episodes],
    }


def env_outcome(completions: list[Any], outcome: list[float], **kwargs: Any) -> list[float]:
    """TRL reward function: the env's return of each episode, as the rollout recorded it."""
    return [float(value) for value in outcome]


def spa_shaping(completions: list[Any], shaping: list[float | None], **kwargs: Any) -> list[float]:
    """TRL reward function: ``sum_t (alpha * c_t + beta * g_t)`` of each episode (SPA's terms without R)."""
    if any(value is None for value in shaping):
        raise ValueError("spa_shaping needs SPA rewards from the rollout: EnvRollout(..., estimator=...)")
    return [float(value) for value in shaping]


def spread_turn_advantages(advantages: torch.Tensor, turn_spans: Sequence[Sequence[Sequence[int]]],
                           turn_terms: Sequence[Sequence[float]], width: int, weight: float = 1.0) -> torch.Tensor:
    """Per-token advantages ``(B, width)``: row ``i`` holds ``advantages[i]`` on every token, plus
    ``weight * turn_terms[i][t]`` on the tokens of turn ``t`` (``turn_spans[i][t] = (start, end)``).

    Example:
        >>> spread_turn_advantages(torch.tensor([1.0]), [[(0, 2), (3, 4)]], [[0.5, -1.0]], width=5)
        tensor([[1.5000, 1.5000, 1.0000, 0.0000, 1.0000]])
    """
    tokens = advantages.detach().unsqueeze(1).repeat(1, width)
    for row, (spans, terms) in enumerate(zip(turn_spans, turn_terms, strict=True)):
        for (start, end), term in zip(spans, terms, strict=True):
            tokens[row, start:end] += weight * float(term)
    return tokens


def __getattr__(name: str) -> Any:
    """``TurnRewardGRPOTrainer`` is built on first use, so importing this module does not import TRL."""
    if name == "TurnRewardGRPOTrainer":
        cls = _turn_reward_trainer_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _turn_reward_trainer_class() -> type:
    from accelerate.utils import gather_object
    from trl import GRPOTrainer

    class TurnRewardGRPOTrainer(GRPOTrainer):
        """``GRPOTrainer`` with per-token advantages: the outcome advantage plus each turn's own reward.

        Takes ``GRPOTrainer``'s arguments and ``turn_reward_weight`` (``w``). The ``rollout_func``
        must return ``turn_spans`` and ``turn_rewards`` per completion (:class:`EnvRollout` with an
        estimator does); ``reward_funcs`` give the episode's reward (``rollout.reward_funcs(per_turn=True)``:
        the outcome only, so SPA's terms are not counted twice). Token ``k`` of episode ``i`` in
        turn ``t`` gets ``A_i + w * z_it``, where ``A_i`` is GRPO's advantage and ``z_it`` the turn's
        reward normalised over the turns of its group (not divided by the std with
        ``scale_rewards="none"``). Tokens outside the turns are masked out of the loss anyway.
        """

        def __init__(self, *args: Any, turn_reward_weight: float = 1.0, **kwargs: Any):
            super().__init__(*args, **kwargs)
            if self.rollout_func is None:
                raise ValueError("TurnRewardGRPOTrainer needs a rollout_func that returns turn_spans and turn_rewards")
            if "spa_shaping" in self.reward_func_names:
                raise ValueError("spa_shaping is in reward_funcs and would count SPA's terms twice: "
                                 "use rollout.reward_funcs(per_turn=True)")
            self.turn_reward_weight = turn_reward_weight
            self._turn_batch: dict[str, Any] = {}
            inner = self.rollout_func

            def recording(prompts: list[Any], trainer: Any) -> dict[str, Any]:
                output = inner(prompts, trainer)
                self._turn_batch = {key: output.get(key) for key in ("turn_spans", "turn_rewards")}
                return output

            self.rollout_func = recording

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            output = super()._generate_and_score_completions(inputs)
            spans, rewards = self._turn_batch.get("turn_spans"), self._turn_batch.get("turn_rewards")
            if spans is None or rewards is None or any(r is None for r in rewards):
                raise ValueError("the rollout returned no turn_rewards: give EnvRollout an estimator")
            group = self.num_generations if self.model.training else self.num_generations_eval
            every = [list(r) for r in gather_object([list(r) for r in rewards])]
            first = self.accelerator.process_index * len(rewards)
            terms = group_turn_advantages(every, group, scale=self.scale_rewards != "none")
            terms = terms[first : first + len(rewards)]
            advantages = output["advantages"]
            output["advantages"] = spread_turn_advantages(advantages, spans, terms, output["completion_ids"].size(1),
                                                          self.turn_reward_weight).to(advantages.device)
            mode = "train" if self.model.training else "eval"
            self._metrics[mode]["turn_reward/mean"].append(
                sum(sum(r) for r in every) / max(sum(len(r) for r in every), 1))
            return output

    TurnRewardGRPOTrainer.__module__ = __name__
    return TurnRewardGRPOTrainer


__all__ = [
    "EnvRollout",
    "TurnRewardGRPOTrainer",  # noqa: F822 (built on first use, by the module's __getattr__)
    "env_outcome",
    "rollout_output",
    "spa_shaping",
    "spread_turn_advantages",
]
