"""PPO resume: a run interrupted mid-iteration and resumed from its folder equals an uninterrupted run."""

from __future__ import annotations

import json
from collections.abc import Sequence

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents import ppo as ppo_module
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from spa_gym.data import Trajectory
from spa_gym.training import tiny_model_path

ITERATIONS = 3
INTERRUPTED_AFTER = 1  # iterations checkpointed before the crash
ARGS = PPOConfig(iterations=ITERATIONS, batch_size=2, mini_batch_size=1, gradient_accumulation_steps=1, ppo_epochs=2,
               lr=1e-3, max_new_tokens=4, adaptive_kl=True, kl_horizon=10.0, tensorboard=False)
#: policy_loss calls per iteration: ppo_epochs x (batch_size / mini_batch_size) mini-batches.
CALLS_PER_ITERATION = ARGS.ppo_epochs * ARGS.batch_size // ARGS.mini_batch_size


class ActionLengthReward:
    """Dense per-step rewards that differ between steps from the first iteration on (the untrained tiny
    policy never wins, so "sparse" or "uniform" would give all-zero rewards and no update to compare)."""

    name = "action-length"
    target = "rewards"

    def describe(self) -> dict:
        return {"name": self.name}

    def __call__(self, trajectories: Sequence[Trajectory]) -> list[list[float]]:
        return [[min(len(step.action), 20) / 20 - 0.5 for step in t.steps] for t in trajectories]


def fresh_policy(kind: str) -> LLMPolicy:
    torch.manual_seed(0)  # the LoRA A matrices start random: the same start for every run
    if kind == "lora":
        from peft import LoraConfig

        return LLMPolicy.from_pretrained(tiny_model_path(), lora=LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    return LLMPolicy.from_pretrained(tiny_model_path())


def trainer(out, kind: str) -> PPOTrainer:
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=3) for _ in range(ARGS.batch_size)]
    return PPOTrainer(fresh_policy(kind), envs, ActionLengthReward(), out, ARGS, task_sampler=sample_task_indices(100))


def weights(policy: LLMPolicy) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in policy.state_dict().items()}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["full", "lora"])  # frozen-copy reference / adapter-off reference
def test_an_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path, monkeypatch, kind) -> None:
    initial = weights(fresh_policy(kind))
    straight = trainer(tmp_path / "straight", kind)
    straight_history = straight.train(progress=False)
    assert [h["iteration"] for h in straight_history] == [1, 2, 3]
    straight_weights = weights(straight.policy)
    assert any(not torch.equal(initial[name], straight_weights[name]) for name in initial)  # it did train
    assert all(h["policy_loss"] != 0.0 and h["value_loss"] > 0.0 for h in straight_history)

    # The crash comes in iteration INTERRUPTED_AFTER + 1, after that iteration's first optimizer step
    # (gradient_accumulation_steps = 1): the policy in memory has moved past the last checkpoint.
    calls = {"n": 0}
    real_policy_loss = ppo_module.policy_loss

    def crashing_policy_loss(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == INTERRUPTED_AFTER * CALLS_PER_ITERATION + 2:
            raise KeyboardInterrupt
        return real_policy_loss(*args, **kwargs)

    monkeypatch.setattr(ppo_module, "policy_loss", crashing_policy_loss)
    crashed = trainer(tmp_path / "run", kind)
    with pytest.raises(KeyboardInterrupt):
        crashed.train(progress=False)
    monkeypatch.setattr(ppo_module, "policy_loss", real_policy_loss)
    assert crashed.iteration == INTERRUPTED_AFTER
    saved = json.loads((tmp_path / "run" / "ppo_history.json").read_text())["history"]
    assert saved == straight_history[:INTERRUPTED_AFTER]
    checkpointed = weights(LLMPolicy.from_pretrained(tmp_path / "run" / "policy"))
    assert any(not torch.equal(checkpointed[name], value) for name, value in weights(crashed.policy).items())

    resumed = trainer(tmp_path / "run", kind)  # a fresh policy; the trainer reads the folder
    assert (resumed.iteration, resumed.history) == (INTERRUPTED_AFTER, straight_history[:INTERRUPTED_AFTER])
    assert resumed.env_steps == straight_history[INTERRUPTED_AFTER - 1]["env_steps"]
    assert resumed.kl_coef == straight_history[INTERRUPTED_AFTER - 1]["kl_coef"]
    resumed_history = resumed.train(progress=False)

    # Exactly equal, not approximately: every iteration seeds its own RNGs from (seed, iteration), the
    # checkpoint holds the float32 weights, value head and AdamW moments bit for bit, and the same CPU
    # kernels run on the same inputs, so any difference is a resume bug, not rounding.
    assert resumed_history == straight_history
    resumed_weights = weights(resumed.policy)
    assert resumed_weights.keys() == straight_weights.keys()
    different = [name for name in straight_weights if not torch.equal(straight_weights[name], resumed_weights[name])]
    assert different == []
    straight_moments = straight.optimizer.state_dict()["state"]
    resumed_moments = resumed.optimizer.state_dict()["state"]
    assert straight_moments.keys() == resumed_moments.keys()
    for key in straight_moments:
        for name, value in straight_moments[key].items():
            assert torch.equal(value, resumed_moments[key][name]), (key, name)



def test_a_checkpoint_of_another_policy_is_one_error_naming_it(tmp_path) -> None:
    """Resuming loads every weight: a checkpoint whose weights do not fit the policy is refused, not half-loaded."""
    from spa_gym.training.checkpoints import CheckpointError

    ARGS_ONE = PPOConfig(**{**ARGS.__dict__, "iterations": 1})
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=3) for _ in range(ARGS.batch_size)]
    PPOTrainer(fresh_policy("full"), envs, ActionLengthReward(), tmp_path, ARGS_ONE,
               task_sampler=sample_task_indices(100)).train(progress=False)
    with pytest.raises(CheckpointError, match=f"cannot load the PPO checkpoint at {tmp_path / 'policy'}"):
        PPOTrainer(fresh_policy("lora"), envs, ActionLengthReward(), tmp_path, ARGS_ONE,
                   task_sampler=sample_task_indices(100))
