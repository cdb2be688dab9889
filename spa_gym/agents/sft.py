"""Supervised fine-tuning (behaviour cloning) of an :class:`~.policy.LLMPolicy` on expert trajectories.

Each trajectory becomes the conversation the agent would see (:func:`.prompts.build_messages`:
instruction, example, observations) with the expert's turns as the assistant's; the loss is the
next-token cross-entropy on the assistant's tokens only (including the turn's stop token, so the
agent learns to stop), never on the prompt or the observations. With a history window
(``SFTConfig.history_window``) every turn is trained in the context the agent will see when it acts
with the same window (:func:`sft_examples`).

Example:
    >>> args = SFTConfig(epochs=1)
    >>> args.style
    'compact'
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from ..data.trajectories import Trajectory
from ..training.distributed import global_divisor, global_mean, local_share, make_accelerator
from ..training.schedules import check_schedule, make_scheduler
from .conversation import TokenConversation
from .policy import Generation, LLMPolicy
from .prompts import build_messages, format_assistant, get_prompt


@dataclass
class SFTConfig:
    """Knobs of a supervised fine-tuning run."""

    epochs: int = 3  # SPA-RL: 3
    lr: float = 1e-3  # tiny models from scratch; SPA-RL used 2e-5 for full fine-tuning of Llama-3.2-3B
    batch_size: int = 8
    style: str = "compact"  # "react" for real LLMs (Thought + Action), "compact" for tiny ones
    max_grad_norm: float = 1.0
    #: Batch conversations of similar length (shuffled batch order): less padding, same examples per
    #: epoch. Off gives uniformly shuffled batches.
    group_by_length: bool = True
    schedule: str = "constant"  # or "linear": decay to 0 over the run (see training.schedules)
    #: Keep only the last k turns in each turn's context (play the agent with the same window);
    #: None: the whole history, as SPA-RL does.
    history_window: int | None = None
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        check_schedule(self.schedule)
        if self.history_window is not None and self.history_window < 1:
            raise ValueError(f"history_window keeps at least 1 turn (or None for all), got {self.history_window}")


@dataclass
class SFTExample:
    """Token ids of one conversation and the mask of the tokens the loss trains on."""

    ids: list[int]
    trained: list[bool]


def sft_examples(policy: LLMPolicy, trajectory: Trajectory, style: str,
                 history_window: int | None = None) -> list[SFTExample]:
    """The conversation of one expert trajectory, as the policy will see it when acting.

    Without a window this is one example that trains every turn. With a window of ``k`` turns, the
    first ``k + 1`` turns still share one example (their contexts are whole histories) and each later
    turn is an example of its own: the windowed context, then the turn's action, the only tokens trained.
    """
    prompt = get_prompt(trajectory.env_id, style)
    talk = TokenConversation(policy.tokenizer, build_messages(prompt, trajectory.initial_observation, []))
    stop = talk.closing_ids[0]  # the turn's end token, which the model learns to generate
    windowed = []
    for number, step in enumerate(trajectory.steps):
        context = talk.window(history_window) if history_window is not None and number > history_window else None
        text = format_assistant(step.action, None, style)
        talk.add_action(Generation(policy.tokenizer.encode(text, add_special_tokens=False) + [stop], text, True))
        if context is not None:
            start, end = talk.action_spans[-1]
            windowed.append(SFTExample(context + talk.ids[start:end], [False] * len(context) + [True] * (end - start)))
        if number + 1 < len(trajectory.steps):
            talk.add_observation(step.observation)
    shared = talk.action_spans if history_window is None else talk.action_spans[: history_window + 1]
    if not shared:
        return []
    trained = [False] * shared[-1][1]
    for start, end in shared:
        trained[start:end] = [True] * (end - start)
    return [SFTExample(talk.ids[: shared[-1][1]], trained)] + windowed


def sft_batches(examples: Sequence[SFTExample], batch_size: int, rng: random.Random,
                group_by_length: bool = True) -> list[list[SFTExample]]:
    """One epoch's batches, in random order. Grouped by length: the examples are shuffled, sorted by
    length (stable, so equal lengths stay shuffled) and cut into batches, whose order is shuffled.

    Example:
        >>> examples = [SFTExample([0] * n, [True] * n) for n in (5, 1, 4, 2)]
        >>> batches = sft_batches(examples, 2, random.Random(0))
        >>> sorted([len(e.ids) for e in batch] for batch in batches)
        [[1, 2], [4, 5]]
    """
    order = list(examples)
    rng.shuffle(order)
    if group_by_length:
        order.sort(key=lambda example: len(example.ids))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if group_by_length:
        rng.shuffle(batches)
    return batches


def trained_tokens(example: SFTExample) -> int:
    """The number of tokens of ``example`` the loss predicts (trained tokens after the first position).

    Example:
        >>> trained_tokens(SFTExample([5, 6, 7], [False, True, True]))
        2
    """
    return sum(example.trained[1:])


def sft_loss(policy: LLMPolicy, batch: Sequence[SFTExample], num_items: float | None = None,
             model: nn.Module | None = None) -> torch.Tensor:
    """Mean next-token cross-entropy over the trained (assistant) tokens of the batch; with
    ``num_items``, their sum divided by it (:func:`train_sft` passes the global batch's count of
    trained tokens over the number of processes). ``model``: the causal LM to run, e.g.
    ``policy.model`` prepared for distributed training (default: ``policy.model``)."""
    length = max(len(e.ids) for e in batch)
    input_ids = torch.full((len(batch), length), policy.pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(batch), length), dtype=torch.long)
    labels = torch.full((len(batch), length), -100, dtype=torch.long)
    for row, example in enumerate(batch):
        n = len(example.ids)
        input_ids[row, :n] = torch.tensor(example.ids)
        attention[row, :n] = 1
        trained = torch.tensor(example.trained)
        labels[row, :n] = torch.where(trained, input_ids[row, :n], torch.full_like(input_ids[row, :n], -100))
    device = policy.device
    extra = {} if num_items is None else {"num_items_in_batch": num_items}
    with policy.autocast():
        output = (model or policy.model)(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                                         labels=labels.to(device), **extra)
    return output.loss.float()


def train_sft(
    policy: LLMPolicy,
    trajectories: Sequence[Trajectory],
    out_dir: str | os.PathLike[str],
    args: SFTConfig | None = None,
) -> list[dict[str, Any]]:
    """Fine-tune ``policy`` in place on the trajectories; save it to ``out_dir``; return per epoch the
    mean loss and the loss of each step.

    Runs on one process or, under ``accelerate launch``, on several: ``batch_size`` is the global
    batch, each process trains on its share, and the loss is the token mean over the global batch
    (see :mod:`spa_gym.training.distributed`); the main process saves.
    """
    args = args or SFTConfig()
    if not trajectories:
        raise ValueError("no trajectories to fine-tune on")
    torch.manual_seed(args.seed)
    examples = [example for t in trajectories for example in sft_examples(policy, t, args.style, args.history_window)]
    accelerator = make_accelerator(policy)
    optimizer = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=args.lr)
    rng = random.Random(args.seed)
    scheduler = make_scheduler(optimizer, args.schedule, args.epochs * math.ceil(len(examples) / args.batch_size))
    model, optimizer = accelerator.prepare(policy.model, optimizer)
    history = []
    policy.train()
    for epoch in range(args.epochs):
        batches = sft_batches(examples, args.batch_size, rng, args.group_by_length)
        total, step_losses = 0.0, []
        bar = tqdm(batches, desc=f"SFT epoch {epoch + 1}/{args.epochs}", leave=False,
                   disable=not (args.progress and accelerator.is_main_process))
        for batch in bar:
            share, real = local_share(accelerator, batch)
            count = sum(trained_tokens(example) for example in share) if real else 0
            loss = sft_loss(policy, share, global_divisor(accelerator, count), model)
            loss = loss if real else loss * 0.0  # a stand-in share: its process joins the gradient average
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            step_losses.append(global_mean(accelerator, loss))
            total += step_losses[-1] * len(batch)
            bar.set_postfix(loss=f"{step_losses[-1]:.4f}")
        history.append({"epoch": epoch, "loss": total / len(examples), "step_losses": step_losses})
    out = Path(out_dir)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        policy.save_pretrained(out)
        (out / "sft_history.json").write_text(json.dumps({"args": asdict(args), "history": history}, indent=2))
    accelerator.wait_for_everyone()
    return history
