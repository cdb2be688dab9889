"""Do the envs or the model bound a training iteration? Prints JSON.

Every env of a run is wrapped in a timer that adds up the seconds spent inside ``reset`` and
``step`` (the env and the wrappers below the timer); an iteration's env share is that sum over
the iteration's wall time. If the share is small, running envs in worker processes (Gymnasium's
AsyncVectorEnv, Ray actors) cannot speed an iteration up by more than the share, and costs
inter-process copies; if it is large, they can.

Protocol (defaults): for each env id, median over --repeats iterations (after one warm-up):
  llm   one PPO iteration of the LLM agent (PPOTrainer, --batch episodes, the cpu preset's
        settings for SmolLM2, the tiny local model with --model tiny), step limit 6
  sb3   one MaskablePPO rollout + update (4 env copies x 256 steps, hashed observations,
        admissible-action masks), step limit 20
Reported: seconds per iteration, env seconds per iteration, env share, env steps per iteration.

What we found (--model tiny --repeats 2, 2 cores busy with another job): the env share of an LLM
PPO iteration is 0.61% / 0.05% / 1.3% (ALFWorld / WebShop / VirtualHome; 0.006-0.04 s of 3-13 s),
of a MaskablePPO iteration 5.1% / 8.3% / 8.2%. With SmolLM2 an iteration plays the same number of
env steps in minutes, so its share is smaller still. The model bounds every iteration: env worker
processes could save at most these shares.

    python3 benchmarks/env_share.py [--envs ...] [--model smollm2-135m|tiny] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from typing import Any

import gymnasium as gym
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from spa_gym.credit import get_credit_method
from spa_gym.pipeline import PRESETS
from spa_gym.training import checkpoint_activations, lora_config, model_defaults, resolve_model

ENVS = ("SPA-ALFWorld-v0", "SPA-WebShop-v0", "SPA-VirtualHome-v0")


class EnvTimer(gym.Wrapper):
    """Adds the seconds spent in ``reset`` and ``step`` to a shared counter."""

    def __init__(self, env: gym.Env, clock: list[float]):
        super().__init__(env)
        self.clock = clock

    def reset(self, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.env.reset(**kwargs)
        finally:
            self.clock[0] += time.perf_counter() - start

    def step(self, action: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.env.step(action)
        finally:
            self.clock[0] += time.perf_counter() - start


def share(iterations: list[tuple[float, float, int]]) -> dict[str, float]:
    """Medians of (wall seconds, env seconds, env steps) per iteration, and the env share."""
    wall = statistics.median(i[0] for i in iterations)
    env = statistics.median(i[1] for i in iterations)
    return {"seconds_per_iteration": round(wall, 3), "env_seconds_per_iteration": round(env, 4),
            "env_share": round(env / wall, 5), "env_steps_per_iteration": statistics.median(i[2] for i in iterations)}


def llm_iterations(env_id: str, model: str, batch: int, repeats: int) -> dict[str, float]:
    preset = PRESETS["cpu"]
    clock = [0.0]
    envs = [EnvTimer(gym.make(env_id, max_episode_steps=preset.max_steps), clock) for _ in range(batch)]
    path = resolve_model(model, env_id)
    lora = model_defaults(model).lora
    policy = LLMPolicy.from_pretrained(path, lora=lora_config() if lora else None)
    if model != "tiny":
        policy.autocast_dtype = getattr(torch, preset.autocast)
        checkpoint_activations(policy.model)
    config = PPOConfig(iterations=repeats + 1, batch_size=batch, mini_batch_size=max(1, batch // 4),
                       gradient_accumulation_steps=1, lr=preset.ppo_lr, ppo_epochs=preset.ppo_epochs,
                       temperature=preset.temperature, max_new_tokens=preset.max_new_tokens, tensorboard=False)
    with tempfile.TemporaryDirectory() as out:
        trainer = PPOTrainer(policy, envs, get_credit_method("sparse"), out, config,
                             task_sampler=sample_task_indices(envs[0].unwrapped.num_tasks()))
        iterations = []
        for number in range(repeats + 1):
            clock[0], steps = 0.0, trainer.env_steps
            start = time.perf_counter()
            trainer.step()
            if number:  # the first is a warm-up
                iterations.append((time.perf_counter() - start, clock[0], trainer.env_steps - steps))
    return share(iterations)


def sb3_iterations(env_id: str, repeats: int) -> dict[str, float]:
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from spa_gym.integrations.sb3 import make_sb3_env

    clock = [0.0]
    thunk = make_sb3_env(env_id, tasks=list(range(8)), max_episode_steps=20)
    model = MaskablePPO("MlpPolicy", DummyVecEnv([lambda: EnvTimer(thunk(), clock)] * 4), n_steps=256,
                        batch_size=256, seed=0)
    iterations = []
    for number in range(repeats + 1):
        clock[0], steps = 0.0, model.num_timesteps
        start = time.perf_counter()
        model.learn(1024, reset_num_timesteps=False)
        if number:
            iterations.append((time.perf_counter() - start, clock[0], model.num_timesteps - steps))
    return share(iterations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=list(ENVS), choices=ENVS)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result: dict[str, Any] = {"model": args.model, "batch": args.batch, "repeats": args.repeats, "envs": {}}
    for env_id in args.envs:
        result["envs"][env_id] = {"llm": llm_iterations(env_id, args.model, args.batch, args.repeats),
                                  "sb3": sb3_iterations(env_id, args.repeats)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
