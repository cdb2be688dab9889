"""Rollout and SFT throughput of an LLM agent: KV-cached multi-turn rollouts against re-encoding. JSON.

Greedy rollouts of ``--envs`` SPA-ALFWorld-v0 episodes of exactly ``--turns`` turns (the untuned
model never wins, so every episode runs to the step limit) in one batch, two ways, in the same run:
  cached_s      the batch's KV cache kept across turns: a turn prefills only its new tokens
  reencode_s    the baseline: every turn re-encodes each whole conversation (transformers' generate)
  speedup       reencode_s / cached_s   (target >= 5 at 20 turns)
  tokens        conversation tokens at the end of the batch (both ways generate the same tokens in float32)
  cached_tokens_per_s / reencode_tokens_per_s
                generated tokens per second
And SFT (LoRA on a pretrained model, full fine-tuning on ``tiny``) on expert demonstrations:
  sft_tokens_per_s   trained conversation tokens (forward + backward + optimizer step) per second
Medians over ``--runs`` runs.

    python3 benchmarks/rollout_speed.py [--model smollm2-135m] [--envs 4] [--turns 20] [--runs 3]
                                        [--style react|compact] [--dtype float32|bfloat16] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import gymnasium as gym
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.rollout import play_episodes
from spa_gym.agents.sft import sft_batches, sft_examples, sft_loss
from spa_gym.data import collect_expert_trajectories
from spa_gym.training import lora_config, model_defaults, resolve_model


def rollout(policy: LLMPolicy, args: argparse.Namespace, kv_cache: bool) -> tuple[float, int, int]:
    """Seconds, conversation tokens and generated tokens of one batch of episodes."""
    envs = [gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=args.turns) for _ in range(args.envs)]
    start = time.perf_counter()
    episodes = play_episodes(policy, envs, options=[{"task_index": i} for i in range(args.envs)], style=args.style,
                             greedy=True, max_new_tokens=args.max_new_tokens, kv_cache=kv_cache)
    seconds = time.perf_counter() - start
    generated = sum(end - begin for e in episodes for begin, end in e.conversation.action_spans)
    return seconds, sum(len(e.conversation.ids) for e in episodes), generated


def sft_tokens_per_s(policy: LLMPolicy, args: argparse.Namespace) -> float:
    """Trained tokens per second over one pass of batches of 2 expert conversations."""
    import random

    experts = collect_expert_trajectories(gym.make("SPA-ALFWorld-v0", split="train", expert="explorer"), range(8))
    examples = [example for t in experts for example in sft_examples(policy, t, args.style)]
    optimizer = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=1e-5)
    policy.train()
    start, tokens = time.perf_counter(), 0
    for batch in sft_batches(examples, 2, random.Random(0)):
        loss = sft_loss(policy, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tokens += sum(len(e.ids) for e in batch)
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--style", default="react", choices=["react", "compact"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    path = resolve_model(args.model, "SPA-ALFWorld-v0")
    dtype = getattr(torch, args.dtype)
    policy = LLMPolicy.from_pretrained(path, torch_dtype=dtype).to(args.device)
    cached, reencoded = [], []
    for _ in range(args.runs):
        cached.append(rollout(policy, args, kv_cache=True))
        reencoded.append(rollout(policy, args, kv_cache=False))
    cached_s = statistics.median(r[0] for r in cached)
    reencode_s = statistics.median(r[0] for r in reencoded)
    generated = cached[0][2]
    lora = lora_config() if model_defaults(args.model).lora else None
    trainee = LLMPolicy.from_pretrained(path, torch_dtype=dtype, lora=lora).to(args.device)
    sft = statistics.median(sft_tokens_per_s(trainee, args) for _ in range(args.runs))
    print(json.dumps({
        "model": args.model, "dtype": args.dtype, "device": args.device, "style": args.style,
        "envs": args.envs, "turns": args.turns, "runs": args.runs,
        "cached_s": round(cached_s, 2), "reencode_s": round(reencode_s, 2),
        "speedup": round(reencode_s / cached_s, 2),
        "tokens": cached[0][1], "same_tokens": cached[0][1] == reencoded[0][1],
        "cached_tokens_per_s": round(generated / cached_s, 1),
        "reencode_tokens_per_s": round(generated / reencode_s, 1),
        "sft_tokens_per_s": round(sft, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
