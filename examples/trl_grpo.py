"""Train an LLM agent with TRL's GRPOTrainer on a spa-gym env, with the env's reward or SPA's.

    python3 examples/trl_grpo.py --max-steps 2                      # tiny model on ALFWorld, ~30 s on 2 cores
    python3 examples/trl_grpo.py --model smollm2-135m --env SPA-WebShop-v0 --max-steps 2   # LoRA, 1-3 min
    python3 examples/trl_grpo.py --estimator runs/estimator/best    # SPA: R + sum_t (alpha c_t + beta g_t)
    python3 examples/trl_grpo.py --estimator runs/estimator/best --credit turn   # SPA's terms per turn

Each GRPO step plays ``--batch-size`` episodes (``--num-generations`` per task) with the current
model through :class:`spa_gym.integrations.trl.EnvRollout`, then updates the model on the tokens
it generated (the env's answers are masked out of the loss). ``--estimator tiny-untrained`` puts a
fresh estimator on the env's tiny backbone (its head starts at zero, so c_t = 0 and only the
grounding term beta * g_t remains): it exercises the SPA path, its rewards mean nothing. The output
folder gets the trained model (or LoRA adapter), ``log_history.json`` and ``episodes.jsonl`` (the
last batch's episodes). Nothing is downloaded from a model hub.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is experimental in TRL 1.16

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from spa_gym.integrations.trl import EnvRollout, TurnRewardGRPOTrainer  # noqa: E402
from spa_gym.progress import ProgressEstimator, SPAReward  # noqa: E402
from spa_gym.training import lora_config, model_defaults, resolve_model, tiny_model_path  # noqa: E402


@dataclass
class ExampleArgs:
    """The example's settings (each is a ``--flag``; underscores become dashes)."""

    env: str = "SPA-ALFWorld-v0"
    split: str = "train"
    model: str = "tiny"  # "tiny", "smollm2-135m" or a transformers folder
    out: str = "runs/trl-grpo"
    max_steps: int = 2
    tasks: int = 8  # the first N tasks of the split are the prompts
    batch_size: int = 4  # episodes per GRPO step
    num_generations: int = 4  # episodes per task (GRPO's group)
    max_episode_steps: int = 4
    max_new_tokens: int = 16
    style: str = "compact"  # "react" for Thought/Action turns (chat models)
    learning_rate: float = 1e-4
    full_finetune: bool = False  # pretrained models train LoRA adapters unless this is set
    estimator: str = ""  # a saved ProgressEstimator folder, or "tiny-untrained"; "" for the env's reward only
    alpha: float = 1.0
    beta: float = 0.5
    credit: str = "episode"  # "episode": one reward per episode; "turn": SPA's terms on each turn's tokens
    turn_reward_weight: float = 1.0
    seed: int = 0


def parse_args(argv: list[str] | None = None) -> ExampleArgs:
    """``ExampleArgs`` from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in dataclasses.fields(ExampleArgs):
        flag = "--" + field.name.replace("_", "-")
        if field.type == "bool":
            parser.add_argument(flag, action="store_true", dest=field.name)
        else:
            parser.add_argument(flag, type=type(field.default), default=field.default, dest=field.name)
    return ExampleArgs(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.credit not in ("episode", "turn"):
        raise SystemExit(f"--credit is 'episode' or 'turn', not {args.credit!r}")
    path = resolve_model(args.model, args.env)
    estimator = None
    if args.estimator == "tiny-untrained":
        estimator = ProgressEstimator.from_backbone(tiny_model_path(args.env))
    elif args.estimator:
        estimator = ProgressEstimator.from_pretrained(args.estimator)
    rollout = EnvRollout(args.env, split=args.split, style=args.style, max_new_tokens=args.max_new_tokens,
                         max_episode_steps=args.max_episode_steps, estimator=estimator,
                         reward=SPAReward(alpha=args.alpha, beta=args.beta))
    config = GRPOConfig(
        output_dir=args.out, max_steps=args.max_steps, per_device_train_batch_size=args.batch_size,
        num_generations=args.num_generations, learning_rate=args.learning_rate, seed=args.seed,
        bf16=torch.cuda.is_available(), gradient_checkpointing=False, logging_steps=1, save_strategy="no",
        report_to="none", beta=0.0,
    )
    per_turn = args.credit == "turn"
    trainer_kwargs = {
        "model": AutoModelForCausalLM.from_pretrained(path),
        "processing_class": AutoTokenizer.from_pretrained(path),
        "args": config,
        "train_dataset": rollout.dataset(range(args.tasks)),
        "reward_funcs": rollout.reward_funcs(per_turn=per_turn),
        "rollout_func": rollout,
        "peft_config": lora_config() if model_defaults(args.model).lora and not args.full_finetune else None,
    }
    if per_turn:
        trainer = TurnRewardGRPOTrainer(**trainer_kwargs, turn_reward_weight=args.turn_reward_weight)
    else:
        trainer = GRPOTrainer(**trainer_kwargs)
    trainer.train()

    out = Path(args.out)
    trainer.save_model(str(out))
    (out / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    with open(out / "episodes.jsonl", "w") as handle:
        for episode in rollout.last_episodes:
            handle.write(json.dumps({"task_id": episode.task_id, "actions": episode.actions,
                                     "outcome": episode.outcome, "won": episode.won,
                                     "spa_rewards": episode.spa_rewards}) + "\n")
    rewards = [entry["reward"] for entry in trainer.state.log_history if "reward" in entry]
    print(f"trained {args.max_steps} GRPO steps on {args.env}; mean reward per step {rewards}; saved to {out}")


if __name__ == "__main__":
    main()
