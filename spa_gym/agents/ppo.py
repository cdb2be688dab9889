"""Online, multi-turn PPO for an :class:`~.policy.LLMPolicy`, with per-step credit from any
:mod:`spa_gym.credit` method.

One iteration, every detail visible:

1. Play ``batch_size`` episodes (one per env, batched generation, sampling), in groups of
   ``group_size`` episodes of the same task and seed (group methods compare them).
2. Per-step credit from the credit method, minus ``kl_coef`` times the step's summed per-token KL
   to the reference policy (LoRA adapter off, or a frozen copy).
3. Rewards (``sparse``, ``spa``, ...: ``target == "rewards"``): the value head on the state before
   each step's first action token; GAE over steps (a turn-level critic). Advantages (``grpo``,
   ``gigpo``, ...: ``target == "advantages"``): used as they are, no critic and no value loss.
   Either way, advantages are spread over each action's tokens and whitened over action tokens.
4. ``ppo_epochs`` passes over minibatches: clipped policy loss on action tokens only
   (observation and prompt tokens masked), clipped value loss (with a critic), gradient
   accumulation and clipping.
5. Adaptive KL coefficient; TensorBoard scalars; a checkpoint (policy, optimizer, counters) so an
   interrupted run resumes.

Under ``accelerate launch`` (see :mod:`spa_gym.training.distributed`) each process plays its share
of the batch's groups and every process receives all the episodes, so credit, scoring, advantages
and their whitening are the whole batch's, as on one process (scoring is repeated on each process).
Each process then takes its share of every minibatch, weighted by its share of the minibatch's
action tokens (or sequences, for "seq-mean-token-mean"), so the averaged gradient is the
minibatch's. The main process writes the checkpoints; they resume with any number of processes.

Example:
    >>> args = PPOConfig(batch_size=2, mini_batch_size=1, gradient_accumulation_steps=1)
    >>> args.batch_size // args.mini_batch_size  # optimizer steps per PPO epoch
    2
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from torch import nn

from ..credit import CreditMethod
from ..data.trajectories import Trajectory
from ..training.checkpoints import load_state, loading, recover_folder, save_with_state
from ..training.distributed import global_divisor, global_mean, local_share, make_accelerator
from .policy import LLMPolicy
from .ppo_math import (
    PPOUpdateConfig,
    adaptive_kl_coef,
    gae_over_steps,
    gather_step_values,
    kl_adjusted_step_rewards,
    kl_penalty,
    masked_mean,
    policy_loss,
    spread_to_tokens,
    value_loss,
    whiten,
)
from .rollout import GENERATION_BACKENDS, AgentEpisode, make_generator, play_episodes

STATE_FILE = "ppo_state.pt"
POLICY_DIR = "policy"


@dataclass
class PPOConfig(PPOUpdateConfig):
    """:class:`~.ppo_math.PPOUpdateConfig` plus what the online loop needs."""

    iterations: int = 10
    style: str = "compact"
    max_new_tokens: int = 24
    temperature: float = 1.0
    seed: int = 0
    tensorboard: bool = True
    group_size: int = 1
    """Episodes per task in a batch (same task, same env seed); group credit methods need 2 or more."""
    generation_backend: str = "transformers"
    """Rollout generation: ``transformers`` (KV-cached, any device) or ``vllm`` (GPU, the ``vllm``
    extra; the policy's weights are copied into the engine before each iteration's rollouts)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.group_size < 1 or self.batch_size % self.group_size:
            raise ValueError(f"group_size {self.group_size} must divide batch_size {self.batch_size}")
        if self.generation_backend not in GENERATION_BACKENDS:
            raise ValueError(f"generation backend must be one of {GENERATION_BACKENDS}, "
                             f"not {self.generation_backend!r}")


@dataclass
class Batch:
    """Padded token tensors of a batch of episodes, and their per-step data."""

    input_ids: torch.Tensor  # (B, L)
    attention: torch.Tensor  # (B, L)
    action_mask: torch.Tensor  # (B, L) bool: generated tokens
    token_step: torch.Tensor  # (B, L) long: step of each action token, -1 elsewhere
    step_mask: torch.Tensor  # (B, T) bool
    step_rewards: torch.Tensor  # (B, T): the credit method's values (rewards or advantages)
    terminated: torch.Tensor  # (B,) bool: last step was terminal (no bootstrap)


def make_batch(episodes: Sequence[AgentEpisode | PlayedEpisode], step_rewards: Sequence[Sequence[float]],
               pad_token_id: int) -> Batch:
    """Token tensors and step tensors of a batch of episodes."""
    length = max(len(e.conversation.ids) for e in episodes)
    steps = max(len(e.conversation.action_spans) for e in episodes)
    b = len(episodes)
    input_ids = torch.full((b, length), pad_token_id, dtype=torch.long)
    attention = torch.zeros((b, length), dtype=torch.long)
    action_mask = torch.zeros((b, length), dtype=torch.bool)
    token_step = torch.full((b, length), -1, dtype=torch.long)
    step_mask = torch.zeros((b, steps), dtype=torch.bool)
    rewards = torch.zeros((b, steps))
    for row, (episode, row_rewards) in enumerate(zip(episodes, step_rewards)):
        ids = episode.conversation.ids
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        for t, (start, end) in enumerate(episode.conversation.action_spans):
            action_mask[row, start:end] = True
            token_step[row, start:end] = t
        n = len(episode.conversation.action_spans)
        step_mask[row, :n] = True
        rewards[row, :n] = torch.tensor(list(row_rewards)[:n], dtype=torch.float32)
    terminated = torch.tensor([e.terminated for e in episodes])
    return Batch(input_ids, attention, action_mask, token_step, step_mask, rewards, terminated)


def score_tokens(policy: LLMPolicy, input_ids: torch.Tensor,
                 attention: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs and values, both aligned so that position i belongs to token i:
    the log-prob of token i given the tokens before it, and the value of the state before token i."""
    logprobs, values = policy.token_logprobs(input_ids, attention)
    return logprobs, torch.nn.functional.pad(values[:, :-1], (1, 0))


class _TokenScorer(nn.Module):
    """:func:`score_tokens` of a policy as a module's forward: what data-parallel training wraps, so
    the gradient passes go through the wrapper."""

    def __init__(self, policy: LLMPolicy):
        super().__init__()
        self.policy = policy

    def forward(self, input_ids: torch.Tensor, attention: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return score_tokens(self.policy, input_ids, attention)


@dataclass
class TokenView:
    """The token ids of an episode's conversation and the spans of its actions."""

    ids: list[int]
    action_spans: list[tuple[int, int]]


@dataclass
class PlayedEpisode:
    """What an update reads of an :class:`~.rollout.AgentEpisode` (no KV cache, no tokenizer): small
    enough for processes to send each other."""

    conversation: TokenView
    trajectory: Trajectory
    terminated: bool

    @classmethod
    def of(cls, episode: AgentEpisode) -> PlayedEpisode:
        conversation = TokenView(list(episode.conversation.ids), list(episode.conversation.action_spans))
        return cls(conversation, episode.trajectory, episode.terminated)


class PPOTrainer:
    """PPO for an LLM policy acting in spa-gym envs (one episode per env per iteration)."""

    def __init__(
        self,
        policy: LLMPolicy,
        envs: Sequence[gym.Env],
        credit: CreditMethod,
        out_dir: str | os.PathLike[str],
        args: PPOConfig | None = None,
        task_sampler: Callable[[random.Random], dict | None] | None = None,
    ):
        self.policy = policy
        self.envs = list(envs)
        self.credit = credit
        self.args = args or PPOConfig(batch_size=len(self.envs))
        if self.args.batch_size != len(self.envs):
            raise ValueError(f"batch_size {self.args.batch_size} must equal the number of envs {len(self.envs)}")
        if credit.name == "mc-prm":
            raise ValueError("the LLM PPO trainer has no Monte Carlo value function for 'mc-prm' "
                             "(benchmarks/credit_arena.py runs it with the SB3 policy)")
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.task_sampler = task_sampler
        # critic-free methods leave the value head out of the loss
        self.accelerator = make_accelerator(policy, find_unused_parameters=credit.target != "rewards")
        self.optimizer = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=self.args.lr)
        self.kl_coef = self.args.kl_coef
        self.iteration = 0
        self.env_steps = 0
        self.history: list[dict[str, float]] = []
        self._vllm: Any = None  # the vLLM engine, built on first use
        self.reference = None if policy.is_lora else _frozen_copy(policy)
        self._resume()
        self.scorer, self.optimizer = self.accelerator.prepare(_TokenScorer(policy), self.optimizer)
        self.writer = None
        if self.args.tensorboard and self.accelerator.is_main_process:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(self.out / "tensorboard"))

    # -- the loop -----------------------------------------------------------------------------
    def train(self, progress: bool = True) -> list[dict[str, float]]:
        """Run the remaining iterations (all of them, or what an interrupted run left)."""
        from tqdm import tqdm

        for _ in tqdm(range(self.iteration, self.args.iterations), desc="PPO",
                      disable=not (progress and self.accelerator.is_main_process)):
            self.step()
        if self.writer is not None:
            self.writer.close()
        return self.history

    def step(self) -> dict[str, float]:
        """One PPO iteration: rollouts, rewards, advantages, updates, checkpoint."""
        args = self.args
        rng = random.Random(f"{args.seed}-{self.iteration}")
        torch.manual_seed(rng.randrange(2**31))
        groups = len(self.envs) // args.group_size
        group_seeds = [rng.randrange(2**31) for _ in range(groups)]
        group_options = [self.task_sampler(rng) if self.task_sampler else None for _ in range(groups)]
        seeds = [seed for seed in group_seeds for _ in range(args.group_size)]
        options = [option for option in group_options for _ in range(args.group_size)]
        episodes = self._play(seeds, options)
        trajectories = [e.trajectory for e in episodes]
        batch = make_batch(episodes, self.credit(trajectories), self.policy.pad_token_id)
        critic = self.credit.target == "rewards"
        device = self.policy.device
        with torch.no_grad():
            self.policy.eval()
            old_logprobs, old_values = self._score_in_chunks(self.policy, batch)
            ref_logprobs = self._reference_logprobs(batch)
            mask = batch.action_mask.to(device)
            kl = kl_penalty(old_logprobs, ref_logprobs, mask, kind=args.kl_penalty)
            token_step = batch.token_step.to(device)
            step_mask = batch.step_mask.to(device)
            rewards = kl_adjusted_step_rewards(batch.step_rewards.to(device), kl, token_step, step_mask, self.kl_coef)
            if critic:
                step_values = gather_step_values(old_values, token_step, step_mask)
                advantages, returns = gae_over_steps(rewards, step_values, step_mask, batch.terminated.to(device),
                                                     gamma=args.gamma, lam=args.lam)
                token_returns = spread_to_tokens(returns, token_step, mask)
            else:
                advantages, token_returns = rewards, None
            token_advantages = spread_to_tokens(advantages, token_step, mask)
            if args.whiten_advantages:
                token_advantages = whiten(token_advantages, mask)
        stats = self._update(batch, old_logprobs, old_values, token_advantages, token_returns)
        mean_kl = float(masked_mean(kl, mask))
        if args.adaptive_kl:
            self.kl_coef = adaptive_kl_coef(self.kl_coef, mean_kl, args.kl_target, len(episodes), args.kl_horizon)
        self.iteration += 1
        self.env_steps += sum(len(t.steps) for t in trajectories)
        record = {
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "success_rate": sum(t.won for t in trajectories) / len(trajectories),
            "grounding": (sum(s.grounded for t in trajectories for s in t.steps)
                          / max(1, sum(len(t.steps) for t in trajectories))),
            "mean_step_reward": float(masked_mean(batch.step_rewards, batch.step_mask)),
            "kl": mean_kl,
            "kl_coef": self.kl_coef,
            **stats,
        }
        self.history.append(record)
        if self.writer is not None:
            for key, value in record.items():
                if key != "iteration":
                    self.writer.add_scalar(f"ppo/{key}", value, self.iteration)
        self._checkpoint()
        return record

    def _play(self, seeds: list[int], options: list[dict | None]) -> list[PlayedEpisode]:
        """The batch's episodes: each process plays its share of the groups, every process gets them all."""
        size = self.args.group_size
        groups, real = local_share(self.accelerator, range(len(self.envs) // size))
        mine = [index for group in groups for index in range(group * size, (group + 1) * size)] if real else []
        generator = self._generator()
        played = [] if not mine else play_episodes(
            self.policy, [self.envs[i] for i in mine], [seeds[i] for i in mine], [options[i] for i in mine],
            style=self.args.style, temperature=self.args.temperature, max_new_tokens=self.args.max_new_tokens,
            generator=generator)
        episodes = [PlayedEpisode.of(episode) for episode in played]
        if self.accelerator.num_processes == 1:
            return episodes
        from accelerate.utils import gather_object

        return gather_object(episodes)

    def _generator(self) -> Any:
        """None for transformers' generation; the vLLM engine, its weights synced to the policy's."""
        if self.args.generation_backend != "vllm":
            return None
        if self._vllm is None:
            self._vllm = make_generator(self.policy, "vllm", seed=self.args.seed)
        else:
            self._vllm.sync_weights()
        return self._vllm

    def _score_in_chunks(self, policy: LLMPolicy, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`score_tokens` of the whole batch, ``mini_batch_size`` episodes at a time (the
        vocabulary-wide logits of a whole batch of long episodes need not fit in memory at once)."""
        device = self.policy.device
        chunks = [
            score_tokens(policy, batch.input_ids[start : start + self.args.mini_batch_size].to(device),
                         batch.attention[start : start + self.args.mini_batch_size].to(device))
            for start in range(0, batch.input_ids.shape[0], self.args.mini_batch_size)
        ]
        return torch.cat([c[0] for c in chunks]), torch.cat([c[1] for c in chunks])

    def _reference_logprobs(self, batch: Batch) -> torch.Tensor:
        if self.reference is not None:
            return self._score_in_chunks(self.reference, batch)[0]
        with self.policy.reference():
            return self._score_in_chunks(self.policy, batch)[0]

    def _update(self, batch: Batch, old_logprobs: torch.Tensor, old_values: torch.Tensor,
                advantages: torch.Tensor, returns: torch.Tensor | None) -> dict[str, float]:
        """PPO epochs over minibatches; no value loss when ``returns`` is None (no critic)."""
        args = self.args
        device = self.policy.device
        self.policy.train()
        totals: dict[str, float] = {"policy_loss": 0.0, "value_loss": 0.0, "clipfrac": 0.0, "approx_kl": 0.0}
        updates = skipped = 0
        order = list(range(batch.input_ids.shape[0]))
        rng = random.Random(f"{args.seed}-{self.iteration}-minibatches")
        for _ in range(args.ppo_epochs):
            rng.shuffle(order)
            self.optimizer.zero_grad()
            for number, start in enumerate(range(0, len(order), args.mini_batch_size), start=1):
                share, real = local_share(self.accelerator, order[start : start + args.mini_batch_size])
                rows = torch.tensor(share)
                ids, attention = batch.input_ids[rows].to(device), batch.attention[rows].to(device)
                mask = batch.action_mask[rows].to(device)
                weight = self._share_weight(mask, real)
                logprobs, values = self.scorer(ids, attention)
                p_loss, p_stats = policy_loss(logprobs, old_logprobs[rows], advantages[rows], mask,
                                              args.clip_range, args.aggregation)
                v_loss = (value_loss(values, old_values[rows], returns[rows], mask, args.clip_range_value,
                                     args.aggregation) if returns is not None else values.new_zeros(()))
                ratio_mean = global_mean(self.accelerator, p_stats["ratio_mean"] * weight)
                if ratio_mean > args.ratio_threshold:  # too far off-policy: no step on it
                    skipped += 1
                else:
                    self.accelerator.backward((p_loss + args.vf_coef * v_loss) * weight
                                              / args.gradient_accumulation_steps)
                if number % args.gradient_accumulation_steps == 0 or start + args.mini_batch_size >= len(order):
                    if args.max_grad_norm is not None:
                        self.accelerator.clip_grad_norm_(self.scorer.parameters(), args.max_grad_norm)
                    self.optimizer.step()
                    self.optimizer.zero_grad()
                totals["policy_loss"] += global_mean(self.accelerator, p_loss * weight)
                totals["value_loss"] += global_mean(self.accelerator, v_loss * weight)
                totals["clipfrac"] += global_mean(self.accelerator, p_stats["clipfrac"] * weight)
                totals["approx_kl"] += global_mean(self.accelerator, p_stats["approx_kl"] * weight)
                updates += 1
        return {**{key: value / max(updates, 1) for key, value in totals.items()}, "skipped_minibatches": skipped}

    def _share_weight(self, mask: torch.Tensor, real: bool) -> float:
        """The weight of this process's mean loss over its share of a minibatch: its share of the
        minibatch's action tokens (sequences with "seq-mean-token-mean") times the number of
        processes, so the processes' average gradient is the minibatch's (1.0 on one process)."""
        counted = mask.sum() if self.args.aggregation == "token-mean" else mask.any(dim=-1).sum()
        count = int(counted) if real else 0
        divisor = global_divisor(self.accelerator, count)
        return count / divisor if divisor else 0.0

    # -- checkpoints --------------------------------------------------------------------------
    def _checkpoint(self) -> None:
        if self.accelerator.is_main_process:
            state = {"optimizer": self.optimizer.state_dict(), "iteration": self.iteration,
                     "env_steps": self.env_steps, "kl_coef": self.kl_coef, "history": self.history}
            save_with_state(self.out / POLICY_DIR, self.policy, state, STATE_FILE)
            (self.out / "ppo_history.json").write_text(json.dumps(
                {"args": asdict(self.args), "credit": self.credit.describe(), "history": self.history},
                indent=2))
        self.accelerator.wait_for_everyone()

    def _resume(self) -> None:
        if self.accelerator.is_main_process:  # finish a swap that a crash interrupted (save_atomically)
            recover_folder(self.out / POLICY_DIR)
        self.accelerator.wait_for_everyone()
        state_path = self.out / POLICY_DIR / STATE_FILE
        if not state_path.is_file():
            return
        saved = LLMPolicy.from_pretrained(self.out / POLICY_DIR)
        with loading(self.out / POLICY_DIR, "PPO checkpoint"):  # every weight, or one error naming the folder
            self.policy.load_state_dict(saved.state_dict())
        state = load_state(state_path)
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration, self.env_steps = state["iteration"], state["env_steps"]
        self.kl_coef, self.history = state["kl_coef"], state["history"]


def _frozen_copy(policy: LLMPolicy) -> LLMPolicy:
    import copy

    reference = copy.deepcopy(policy)
    reference.eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    return reference


def sample_task_indices(num_tasks: int) -> Callable[[random.Random], dict[str, Any]]:
    """A task sampler for :class:`PPOTrainer`: a uniform task index of the env's suite."""
    return lambda rng: {"task_index": rng.randrange(num_tasks)}
