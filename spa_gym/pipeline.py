"""The SPA-RL pipeline as one resumable run: SFT -> exploration -> estimator -> PPO (sparse and SPA) -> eval.

Each stage writes its output under the run folder and is skipped when that output exists, so an
interrupted run continues where it stopped. Both PPO runs start from the same SFT checkpoint
with the same seed and the same number of iterations (the same env-step budget up to episode
lengths), one with sparse rewards and one with SPA rewards; the evaluation compares SFT, sparse
PPO and SPA PPO and writes ``results.md`` and ``learning_curve.png``.

The step limit is the preset's, capped at the benchmark's own (WebShop: 10).

Example:
    >>> PRESETS["smoke"].sft_epochs
    2
    >>> ENV_RECIPES["SPA-ALFWorld-v0"].demo_kwargs
    {'expert': 'explorer'}
"""

from __future__ import annotations

import json
import os
import random
import shutil
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import gymnasium as gym
import torch

from .agents.policy import LLMPolicy
from .agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from .agents.rollout import Evaluation, evaluate, play_episodes
from .agents.sft import SFTConfig, train_sft
from .data import TrajectoryWriter, collect_expert_trajectories, read_trajectories
from .envs import ENV_SPECS
from .progress import ESTIMATOR_RECIPES, ProgressEstimator, SPAReward, get_redistributor, train_estimator
from .progress.pretrain import pretrain_backbone
from .training import checkpoint_activations, lora_config, model_defaults, resolve_model
from .training.distributed import process_state


@dataclass(frozen=True)
class Preset:
    """What a pipeline run spends and how it trains: budgets, model, precision, prompt style, SPA's weights."""

    expert_tasks: int
    sft_epochs: int
    sft_lr: float
    explore_episodes: int
    estimator_epochs: int
    pretrain_epochs: int
    ppo_iterations: int
    ppo_envs: int
    ppo_lr: float
    eval_episodes: int
    max_steps: int
    max_new_tokens: int
    style: str = "compact"
    #: Also train the estimator on the SFT demonstrations (all won). SPA-RL trains it on the SFT
    #: agent's exploration alone (the default); a tiny agent that never wins there leaves every
    #: outcome R = 0, from which the estimator learns c_t = 0 and SPA's reward shrinks to its
    #: grounding term. With the demonstrations the estimator fits R easily, but by telling expert
    #: transcripts from the agent's: on the tiny ALFWorld preset (3 seeds) SPA PPO did no better.
    estimator_on_demos: bool = False
    spa_reward: SPAReward = SPAReward()
    dtype: str = "float32"  # the weights' dtype
    #: Dtype of training passes under ``torch.autocast`` (None: the weights' own). bfloat16 trains
    #: ~2.5x faster on CPUs with AVX512-BF16, while generation is ~2x faster in float32 weights.
    autocast: str | None = None
    #: The default model (a name of :func:`spa_gym.training.resolve_model` or a folder). Pretrained
    #: models train LoRA adapters (:func:`spa_gym.training.model_defaults`); scratch ones train whole.
    model: str = "tiny"
    lora: bool | None = None  # LoRA adapters instead of full fine-tuning (None: the model's default)
    ppo_epochs: int = 4
    sft_batch_size: int = 8
    estimator_batch_size: int = 16
    #: Recompute activations in the backward pass (SFT, estimator, PPO): a 2,500-token episode of a
    #: 30-layer model otherwise keeps its attention matrices, over 15 GB, for the backward pass.
    gradient_checkpointing: bool = False
    temperature: float = 1.0  # sampling temperature of exploration and PPO rollouts (SPA-RL: 1.0)
    tuned_for: str | None = None  # the env whose episodes these budgets were chosen for (others: a warning)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(expert_tasks=16, sft_epochs=2, sft_lr=3e-3, explore_episodes=8, estimator_epochs=1,
                    pretrain_epochs=1, ppo_iterations=1, ppo_envs=4, ppo_lr=1e-4, eval_episodes=4, max_steps=6,
                    max_new_tokens=10),
    "tiny": Preset(expert_tasks=400, sft_epochs=4, sft_lr=3e-3, explore_episodes=200, estimator_epochs=3,
                   pretrain_epochs=3, ppo_iterations=20, ppo_envs=8, ppo_lr=1e-4, eval_episodes=50, max_steps=20,
                   max_new_tokens=12),
    # SmolLM2-135M-Instruct (LoRA) on 2 CPU cores, for SPA-WebShop-v0: a pretrained model learns it
    # from a few dozen demonstrations, and its episodes are short (4 expert steps, ~950 tokens).
    # Float32 weights (generation), training passes in bfloat16 (~2.5x faster here). Training runs at
    # a few hundred tokens/s on 2 cores, so the budgets are small: PPO sees 40 episodes per run.
    # Sampling at temperature 0.7: at 1.0 the 32-demonstration SFT agent wrote malformed or invented
    # commands in most exploration steps (seed 0: 0 of 16 episodes won, 14 ran into the step limit).
    # Step limit 6 instead of WebShop's 10: every expert demonstration takes 3-5 steps, and a failed
    # 10-step episode is ~4,200 tokens (the results page again at every step), 6 steps ~2,600.
    "cpu": Preset(expert_tasks=32, sft_epochs=2, sft_lr=5e-4, explore_episodes=16, estimator_epochs=2,
                  pretrain_epochs=0, ppo_iterations=5, ppo_envs=8, ppo_lr=1e-4, eval_episodes=32, max_steps=6,
                  max_new_tokens=40, model="smollm2-135m", ppo_epochs=1, sft_batch_size=2, estimator_batch_size=2,
                  autocast="bfloat16", gradient_checkpointing=True, temperature=0.7, tuned_for="SPA-WebShop-v0"),
    "gpu": Preset(expert_tasks=2000, sft_epochs=3, sft_lr=2e-5, explore_episodes=2000, estimator_epochs=1,
                  pretrain_epochs=0, ppo_iterations=100, ppo_envs=32, ppo_lr=1e-5, eval_episodes=134, max_steps=40,
                  max_new_tokens=128, style="react", dtype="bfloat16", model="smollm2-135m"),
}


@dataclass(frozen=True)
class EnvRecipe:
    """How the pipeline uses one env: the ``gym.make`` kwargs of the SFT demonstrations and the
    floor on generated tokens (a WebShop search repeats much of the instruction). The evaluation
    split is the benchmark's (:data:`~spa_gym.envs.ENV_SPECS`)."""

    demo_kwargs: dict[str, object]
    min_new_tokens: int = 0


#: Per env id. ALFWorld's SFT demonstrations come from the explorer expert, which knows only what
#: the agent has seen, so they can be imitated from the observations.
ENV_RECIPES: dict[str, EnvRecipe] = {
    "SPA-ALFWorld-v0": EnvRecipe({"expert": "explorer"}),
    "SPA-WebShop-v0": EnvRecipe({}, min_new_tokens=40),
    "SPA-VirtualHome-v0": EnvRecipe({}),
}


#: The agents a run evaluates (``eval-<key>.jsonl``) and their names in reports.
AGENTS: dict[str, str] = {"sft": "SFT", "ppo-sparse": "PPO, sparse rewards", "ppo-spa": "PPO, SPA rewards"}


@dataclass
class RunConfig:
    """What ``spa-gym run`` was asked for (saved as ``config.json`` in the run folder)."""

    env_id: str = "SPA-ALFWorld-v0"
    preset: str = "tiny"
    model: str | None = None  # a model name ("tiny", "smollm2-135m") or folder; default: the preset's
    seed: int = 0
    eval_split: str | None = None  # default: the benchmark's (ENV_SPECS)
    estimator_recipe: str = "spa-rl"  # a key of ESTIMATOR_RECIPES; "prior": task prior + prefix-value loss
    alpha: float | None = None  # SPA's progress weight; default: the preset's
    beta: float | None = None  # SPA's grounding weight; default: the preset's

    def __post_init__(self) -> None:
        if self.estimator_recipe not in ESTIMATOR_RECIPES:
            raise ValueError(f"estimator_recipe must be one of {sorted(ESTIMATOR_RECIPES)}, "
                             f"not {self.estimator_recipe!r}")


class Pipeline:
    """One run folder and its stages."""

    def __init__(self, out_dir: str | os.PathLike[str], config: RunConfig, preset: Preset | None = None):
        self.out = Path(out_dir)
        if config.env_id not in ENV_RECIPES:
            raise ValueError(f"the pipeline knows {sorted(ENV_RECIPES)}, not {config.env_id!r}")
        self.config = config
        self.env_recipe = ENV_RECIPES[config.env_id]
        self.eval_split = config.eval_split or ENV_SPECS[config.env_id].eval_split
        preset = preset or PRESETS[config.preset]
        benchmark_limit = gym.spec(config.env_id).max_episode_steps or preset.max_steps
        self.preset = replace(preset, max_steps=min(preset.max_steps, benchmark_limit),
                              max_new_tokens=max(preset.max_new_tokens, self.env_recipe.min_new_tokens),
                              spa_reward=replace(
                                  preset.spa_reward,
                                  alpha=preset.spa_reward.alpha if config.alpha is None else config.alpha,
                                  beta=preset.spa_reward.beta if config.beta is None else config.beta))
        self.processes = process_state()
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if self.processes.num_processes == 1 \
            else str(self.processes.device)
        if preset.tuned_for not in (None, config.env_id):
            warnings.warn(f"preset {config.preset} was tuned for {preset.tuned_for} (step limit {preset.max_steps}); "
                          f"on {config.env_id} its budgets may leave the agents without a win", stacklevel=2)
        self._env(self.eval_split).close()  # an unknown split or model fails now, not after training
        self.model_path = resolve_model(self.model_name, config.env_id)
        self.out.mkdir(parents=True, exist_ok=True)
        saved = self.out / "config.json"
        if saved.is_file() and RunConfig(**json.loads(saved.read_text())) != config:  # older files: defaults
            raise ValueError(f"{self.out} holds a run with another configuration: {saved.read_text()}")
        self.processes.wait_for_everyone()  # every process has read the folder before the main one writes
        if self.processes.is_main_process:
            saved.write_text(json.dumps(asdict(config), indent=2))

    def _env(self, split: str, **kwargs: object) -> gym.Env:
        return gym.make(self.config.env_id, split=split, max_episode_steps=self.preset.max_steps, **kwargs)

    @property
    def model_name(self) -> str:
        return self.config.model or self.preset.model

    @property
    def lora(self) -> bool:
        return model_defaults(self.model_name).lora if self.preset.lora is None else self.preset.lora

    def _policy(self, path: Path | str, lora: bool = False) -> LLMPolicy:
        dtype = getattr(torch, self.preset.dtype) if self.preset.dtype != "float32" else None
        adapter = lora_config() if lora else None
        policy = LLMPolicy.from_pretrained(path, torch_dtype=dtype, lora=adapter).to(self.device)
        policy.autocast_dtype = getattr(torch, self.preset.autocast) if self.preset.autocast else None
        if self.preset.gradient_checkpointing:
            checkpoint_activations(policy.model)
        return policy

    def _sft_model(self) -> Path:
        """The SFT agent as a plain causal-LM folder: with LoRA, its adapter merged into the base
        (the estimator's backbone, and the start of PPO, whose reference is this model)."""
        merged = self.out / "sft" / "merged"
        return merged if merged.is_dir() else self.out / "sft" / "model"

    # -- stages -------------------------------------------------------------------------------------
    def _stage(self, name: str, produce: Callable[[], object], every_process: bool = False) -> None:
        """Run ``produce`` unless stage ``name`` finished before; mark it finished (``<name>.done``).

        A stage interrupted before its mark is produced again: stages that can continue (estimator
        training, PPO) resume from their own checkpoints, the others start over. With several
        processes (``accelerate launch``), training stages (``every_process``) run on all of them and
        the others (collection, evaluation) on the main process while the rest wait.
        """
        marker = self.out / f"{name}.done"
        if marker.is_file():
            return
        if every_process or self.processes.is_main_process:
            produce()
        self.processes.wait_for_everyone()
        if self.processes.is_main_process:
            marker.write_text("ok\n")
        self.processes.wait_for_everyone()

    def experts(self) -> Path:
        path = self.out / "experts.jsonl"
        self._stage("experts", lambda: self._collect_experts(path))
        return path

    def _collect_experts(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        collect_expert_trajectories(self._env("train", **self.env_recipe.demo_kwargs), range(self.preset.expert_tasks),
                                    path=path)

    def sft(self) -> Path:
        out = self.out / "sft"
        self._stage("sft", lambda: self._train_sft(out), every_process=True)
        return out

    def _train_sft(self, out: Path) -> None:
        if out.exists() and self.processes.is_main_process:
            shutil.rmtree(out)
        self.processes.wait_for_everyone()
        experts = read_trajectories(self.experts())
        policy = self._policy(self.model_path, lora=self.lora)
        train_sft(policy, experts, out, SFTConfig(epochs=self.preset.sft_epochs, lr=self.preset.sft_lr,
                                                batch_size=self.preset.sft_batch_size, style=self.preset.style,
                                                seed=self.config.seed))
        if policy.is_lora and self.processes.is_main_process:
            merged = policy.model.merge_and_unload()
            merged.save_pretrained(out / "merged")
            policy.tokenizer.save_pretrained(out / "merged")

    def explore(self) -> Path:
        path = self.out / "explore.jsonl"
        self._stage("explore", lambda: self._explore(path))
        return path

    def _explore(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        policy = self._policy(self.out / "sft")
        envs = [self._env("train") for _ in range(self.preset.ppo_envs)]
        sampler = sample_task_indices(envs[0].unwrapped.num_tasks())
        rng = random.Random(f"{self.config.seed}-explore")
        with TrajectoryWriter(path) as writer:
            for start in range(0, self.preset.explore_episodes, len(envs)):
                batch = envs[: min(len(envs), self.preset.explore_episodes - start)]
                episodes = play_episodes(policy, batch, [rng.randrange(2**31) for _ in batch],
                                         [sampler(rng) for _ in batch], style=self.preset.style,
                                         temperature=self.preset.temperature,
                                         max_new_tokens=self.preset.max_new_tokens)
                for episode in episodes:
                    writer.write(episode.trajectory)

    def estimator(self) -> Path:
        out = self.out / "estimator"
        self._stage("estimator", lambda: self._train_estimator(out), every_process=True)
        return out / "best"

    def _train_estimator(self, out: Path) -> None:
        walks = read_trajectories(self.out / "explore.jsonl")
        needs_demos = self.preset.pretrain_epochs > 0 or self.preset.estimator_on_demos
        experts = read_trajectories(self.out / "experts.jsonl") if needs_demos else []  # the SFT demonstrations
        backbone: Path = self._sft_model()  # the SFT agent, as in SPA-RL
        if self.preset.pretrain_epochs:  # one process pretrains; the others read its result
            if self.processes.is_main_process:
                pretrain_backbone(backbone, experts + walks, out / "backbone", targets="all",
                                  epochs=self.preset.pretrain_epochs)
            self.processes.wait_for_everyone()
            backbone = out / "backbone"
        if not any(walk.won for walk in walks):
            print(f"exploration won none of its {len(walks)} episodes: without demonstrations the estimator "
                  "sees only R = 0" + (" (adding the SFT demonstrations)" if self.preset.estimator_on_demos else ""))
        if self.preset.estimator_on_demos:
            walks = walks + experts
        recipe = ESTIMATOR_RECIPES[self.config.estimator_recipe]
        estimator = recipe.build(backbone, lora=lora_config() if self.lora else None).to(self.device)
        if self.preset.gradient_checkpointing:
            checkpoint_activations(estimator.backbone)
        train_estimator(estimator, walks, out, recipe.training_args(epochs=self.preset.estimator_epochs,
                                                                     batch_size=self.preset.estimator_batch_size,
                                                                     autocast=self.preset.autocast,
                                                                     seed=self.config.seed))

    def ppo(self, rewards: str) -> Path:
        out = self.out / f"ppo-{rewards}"
        self._stage(f"ppo-{rewards}", lambda: self._train_ppo(rewards, out), every_process=True)
        return out

    def _train_ppo(self, rewards: str, out: Path) -> None:
        args = PPOConfig(iterations=self.preset.ppo_iterations, batch_size=self.preset.ppo_envs,
                       mini_batch_size=max(1, self.preset.ppo_envs // 4), gradient_accumulation_steps=1,
                       lr=self.preset.ppo_lr, ppo_epochs=self.preset.ppo_epochs, temperature=self.preset.temperature,
                       style=self.preset.style,
                       max_new_tokens=self.preset.max_new_tokens, seed=self.config.seed)
        if rewards == "spa":
            estimator = ProgressEstimator.from_pretrained(self.out / "estimator" / "best").to(self.device)
            credit = get_redistributor("spa", estimator=estimator, reward=self.preset.spa_reward)
        else:
            credit = get_redistributor(rewards)
        envs = [self._env("train") for _ in range(self.preset.ppo_envs)]
        start = self._policy(self._sft_model(), lora=True) if self.lora else self._policy(self.out / "sft")
        trainer = PPOTrainer(start, envs, credit, out, args,
                             task_sampler=sample_task_indices(envs[0].unwrapped.num_tasks()))
        trainer.train()

    def evaluate(self, name: str, policy_dir: Path) -> Evaluation:
        path = self.out / f"eval-{name}.jsonl"
        self._stage(f"eval-{name}", lambda: self._evaluate(policy_dir, path))
        return evaluate(read_trajectories(path))

    def _evaluate(self, policy_dir: Path, path: Path) -> None:
        path.unlink(missing_ok=True)
        policy = self._policy(policy_dir)
        envs = [self._env(self.eval_split) for _ in range(self.preset.ppo_envs)]
        with TrajectoryWriter(path) as writer:
            for start in range(0, self.preset.eval_episodes, len(envs)):
                batch = envs[: min(len(envs), self.preset.eval_episodes - start)]
                tasks = [{"task_index": start + i} for i in range(len(batch))]
                episodes = play_episodes(policy, batch, options=tasks, style=self.preset.style, greedy=True,
                                         max_new_tokens=self.preset.max_new_tokens)
                for episode in episodes:
                    writer.write(episode.trajectory)

    def run(self) -> Path:
        """All stages; returns the path of ``results.md``."""
        self.sft()
        self.explore()
        self.estimator()
        for rewards in ("sparse", "spa"):
            self.ppo(rewards)
        policies = {"sft": self.out / "sft", "ppo-sparse": self.out / "ppo-sparse" / "policy",
                    "ppo-spa": self.out / "ppo-spa" / "policy"}
        return self._report({AGENTS[agent]: self.evaluate(agent, folder) for agent, folder in policies.items()})

    def _report(self, results: dict[str, Evaluation]) -> Path:
        path = self.out / "results.md"
        if not self.processes.is_main_process:
            return path
        lines = [
            f"# {self.config.env_id}, preset {self.config.preset}, seed {self.config.seed}",
            "",
            f"Evaluated greedily on the first {self.preset.eval_episodes} tasks of {self.eval_split} "
            f"(step limit {self.preset.max_steps}); 95% intervals (Wilson for rates). SPA rewards: estimator "
            f"recipe {self.config.estimator_recipe}, alpha {self.preset.spa_reward.alpha}, "
            f"beta {self.preset.spa_reward.beta}.",
            "",
            "| agent | episodes | success rate | average reward | grounding accuracy |",
            "|---|---|---|---|---|",
        ]
        for name, ev in results.items():
            lines.append(f"| {name} | {ev.episodes} | {ev.success_rate} | {ev.average_reward} "
                         f"| {ev.grounding_accuracy} |")
        path.write_text("\n".join(lines) + "\n")
        self._plot()
        return path

    def _plot(self) -> None:
        from .compare import plot_learning_curves

        plot_learning_curves([self.out], self.out / "learning_curve.png",
                             title=f"{self.config.env_id} ({self.config.preset}, seed {self.config.seed})")


def run_pipeline(out_dir: str | os.PathLike[str], config: RunConfig, **preset_overrides: object) -> Path:
    """Run (or resume) the whole pipeline; returns the path of ``results.md``."""
    preset = replace(PRESETS[config.preset], **preset_overrides) if preset_overrides else None
    return Pipeline(out_dir, config, preset).run()
