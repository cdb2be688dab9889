"""PPO trainer (smoke, resume) and the whole pipeline on the smoke preset (run and resume)."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, make_batch, sample_task_indices
from spa_gym.agents.rollout import play_episodes
from spa_gym.cli import main
from spa_gym.progress import SPAReward, get_redistributor
from spa_gym.training import tiny_model_path


def test_make_batch_masks_only_generated_tokens() -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    envs = [gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=2 + i) for i in range(2)]
    episodes = play_episodes(policy, envs, seeds=[0, 1], max_new_tokens=5)
    batch = make_batch(episodes, [[0.5, 1.0], [0.0, 0.0, 2.0]], policy.pad_token_id)
    assert batch.step_mask.tolist() == [[True, True, False], [True, True, True]]
    assert batch.step_rewards.tolist() == [[0.5, 1.0, 0.0], [0.0, 0.0, 2.0]]
    for row, episode in enumerate(episodes):
        spans = episode.conversation.action_spans
        marked = [i for i, m in enumerate(batch.action_mask[row].tolist()) if m]
        assert marked == [i for start, end in spans for i in range(start, end)]
        assert ([batch.token_step[row, i].item() for i in marked]
                == [t for t, (s, e) in enumerate(spans) for _ in range(s, e)])
    assert batch.terminated.tolist() == [False, False]


def test_ppo_trainer_runs_and_resumes(tmp_path) -> None:
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=4) for _ in range(2)]
    args = PPOConfig(iterations=2, batch_size=2, mini_batch_size=1, gradient_accumulation_steps=2, ppo_epochs=1,
                   lr=1e-4, max_new_tokens=6, tensorboard=True)
    trainer = PPOTrainer(LLMPolicy.from_pretrained(tiny_model_path()), envs, get_redistributor("uniform"),
                         tmp_path / "ppo", args, task_sampler=sample_task_indices(100))
    history = trainer.train(progress=False)
    assert [h["iteration"] for h in history] == [1, 2] and history[1]["env_steps"] == 16
    longer = PPOConfig(**{**args.__dict__, "iterations": 3})
    resumed = PPOTrainer(LLMPolicy.from_pretrained(tiny_model_path()), envs, get_redistributor("uniform"),
                         tmp_path / "ppo", longer, task_sampler=sample_task_indices(100))
    assert resumed.iteration == 2
    assert [h["iteration"] for h in resumed.train(progress=False)] == [1, 2, 3]
    with pytest.raises(ValueError, match="must equal the number of envs"):
        PPOTrainer(LLMPolicy.from_pretrained(tiny_model_path()), envs[:1], get_redistributor("sparse"),
                   tmp_path / "other", args)


@pytest.mark.slow
def test_spa_gym_run_smoke_preset_end_to_end_and_resume(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--preset", "smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| PPO, SPA rewards | 4 |" in printed
    assert "SPA rewards: estimator recipe spa-rl, alpha 1.0, beta 0.5." in printed
    for name in ("results.md", "learning_curve.png", "explore.jsonl", "sft/spa_policy.json",
                 "estimator/best/spa_estimator.json", "ppo-sparse/ppo_history.json", "ppo-spa/ppo_history.json"):
        assert (out / name).is_file(), name
    sparse = json.loads((out / "ppo-sparse" / "ppo_history.json").read_text())
    spa = json.loads((out / "ppo-spa" / "ppo_history.json").read_text())
    assert len(sparse["history"]) == len(spa["history"]) == 1
    assert sparse["args"]["seed"] == spa["args"]["seed"] and sparse["credit"] == {"name": "sparse"}
    assert spa["credit"] == {"name": "spa", "alpha": 1.0, "beta": 0.5, "keep_final_reward": True}
    stages = ["sft/spa_policy.json", "explore.jsonl", "estimator/best/spa_estimator.json",
              "ppo-sparse/ppo_history.json", "ppo-spa/ppo_history.json", "eval-sft.jsonl", "eval-ppo-sparse.jsonl"]
    written = {name: (out / name).stat().st_mtime_ns for name in stages}
    results = (out / "results.md").read_text()
    # a crash during the last evaluation: its file is cut short and never marked done
    (out / "eval-ppo-spa.done").unlink()
    (out / "eval-ppo-spa.jsonl").write_text((out / "eval-ppo-spa.jsonl").read_text()[:100])
    assert main(["run", "--preset", "smoke", "--out", str(out)]) == 0  # resumes at the interrupted stage
    assert {name: (out / name).stat().st_mtime_ns for name in stages} == written  # nothing done twice
    assert (out / "eval-ppo-spa.done").is_file()
    assert (out / "results.md").read_text() == results  # greedy evaluation: the same table again
    assert main(["run", "--preset", "tiny", "--out", str(out)]) == 2  # another configuration in the same folder


@pytest.mark.slow
def test_spa_gym_run_smoke_preset_on_virtualhome(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--env", "SPA-VirtualHome-v0", "--preset", "smoke", "--out", str(out)]) == 0
    results = (out / "results.md").read_text()
    assert results.startswith("# SPA-VirtualHome-v0, preset smoke, seed 0")
    assert "first 4 tasks of test_unseen" in results and "| PPO, SPA rewards | 4 |" in results
    experts = (out / "experts.jsonl").read_text().splitlines()
    assert len(experts) == 16 and all('"env_id": "SPA-VirtualHome-v0"' in line for line in experts)


def test_pipeline_estimator_stage_follows_the_recipe_and_spa_weights_override_the_preset(tmp_path) -> None:
    import shutil

    from spa_gym.data import TrajectoryWriter, collect_trajectories, make_policy
    from spa_gym.pipeline import Pipeline, RunConfig
    from spa_gym.progress import ProgressEstimator

    out = tmp_path / "run"
    config = RunConfig(preset="smoke", estimator_recipe="prior", alpha=0.2)
    pipeline = Pipeline(out, config)
    assert pipeline.preset.spa_reward == SPAReward(alpha=0.2, beta=0.5)
    shutil.copytree(tiny_model_path(), out / "sft" / "model")  # stands in for the SFT agent's model
    env = gym.make("SPA-ALFWorld-v0", max_episode_steps=6)
    for name, epsilon in (("explore.jsonl", 0.9), ("experts.jsonl", 0.0)):
        with TrajectoryWriter(out / name) as writer:
            for walk in collect_trajectories(env, make_policy("noisy-expert", env, epsilon=epsilon, seed=1), 6):
                writer.write(walk)
    estimator = ProgressEstimator.from_pretrained(pipeline.estimator())
    assert estimator.task_prior
    trained = json.loads((out / "estimator" / "training_result.json").read_text())["args"]
    assert (trained["prefix_weight"], trained["schedule"], trained["lr"]) == (1.0, "linear", 3e-4)

    older = {k: v for k, v in json.loads((out / "config.json").read_text()).items() if k != "beta"}
    (out / "config.json").write_text(json.dumps(older))  # written before beta existed: its default applies
    Pipeline(out, config)
    with pytest.raises(ValueError, match="another configuration"):
        Pipeline(out, RunConfig(preset="smoke", estimator_recipe="spa-rl", alpha=0.2))
    with pytest.raises(ValueError, match="estimator_recipe must be one of"):
        RunConfig(preset="smoke", estimator_recipe="sum")


@pytest.mark.slow
def test_pipeline_with_lora_merges_the_sft_adapter_for_the_estimator_and_ppo(tmp_path) -> None:
    import torch

    from spa_gym.pipeline import RunConfig, run_pipeline
    from spa_gym.progress import ProgressEstimator

    out = tmp_path / "run"
    run_pipeline(out, RunConfig(preset="smoke"), lora=True, gradient_checkpointing=True, pretrain_epochs=0)
    assert (out / "results.md").read_text().count("| 4 |") == 3
    sft = LLMPolicy.from_pretrained(out / "sft")
    assert sft.is_lora
    merged = LLMPolicy.from_pretrained(out / "sft" / "merged")  # a plain causal-LM folder
    assert not merged.is_lora
    ids = torch.tensor([sft.tokenizer.encode("<|user|> You are in the middle of a room. <|end|> <|assistant|> look")])
    with torch.no_grad():
        torch.testing.assert_close(merged.token_logprobs(ids, torch.ones_like(ids))[0],
                                   sft.token_logprobs(ids, torch.ones_like(ids))[0])
    for rewards in ("sparse", "spa"):  # PPO trains a new adapter on the merged SFT model (its KL reference)
        config = json.loads((out / f"ppo-{rewards}" / "policy" / "spa_policy.json").read_text())
        assert config["lora"] and config["base_model_path"] == str(out / "sft" / "merged")
    estimator = ProgressEstimator.from_pretrained(out / "estimator" / "best")
    assert estimator.base_model_path == str(out / "sft" / "merged")


def test_a_preset_tuned_for_one_env_warns_on_another(tmp_path) -> None:
    import warnings

    from spa_gym.pipeline import Pipeline, RunConfig

    with pytest.warns(UserWarning, match="preset cpu was tuned for SPA-WebShop-v0 .*on SPA-ALFWorld-v0"):
        Pipeline(tmp_path / "alfworld", RunConfig("SPA-ALFWorld-v0", "cpu"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Pipeline(tmp_path / "webshop", RunConfig("SPA-WebShop-v0", "cpu"))


def test_a_bad_split_or_model_fails_before_any_stage_and_leaves_the_folder_usable(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--env", "SPA-WebShop-v0", "--preset", "smoke", "--eval-split", "bogus",
                 "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("spa-gym run: unknown WebShop split 'bogus'; expected one of "
                                       "('train', 'dev', 'test', 'all')\n")
    assert main(["run", "--preset", "smoke", "--model", "/nonexistent", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("spa-gym run: no model folder at /nonexistent")
    assert not out.exists()  # no config saved: the corrected command is not refused


def test_ppo_skips_mini_batches_whose_mean_ratio_exceeds_the_threshold(tmp_path) -> None:
    import torch

    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=3) for _ in range(2)]
    for threshold, skipped in ((0.0, 2), (10.0, 0)):
        policy = LLMPolicy.from_pretrained(tiny_model_path())
        before = {name: p.detach().clone() for name, p in policy.named_parameters()}
        args = PPOConfig(iterations=1, batch_size=2, mini_batch_size=1, gradient_accumulation_steps=1, ppo_epochs=1,
                       lr=1e-3, max_new_tokens=4,
                       ratio_threshold=threshold, tensorboard=False)
        trainer = PPOTrainer(policy, envs, get_redistributor("uniform"), tmp_path / f"ppo-{threshold}", args,
                             task_sampler=sample_task_indices(100))
        [record] = trainer.train(progress=False)
        assert record["skipped_minibatches"] == skipped
        unchanged = all(torch.equal(before[name], p) for name, p in policy.named_parameters())
        assert unchanged == (skipped == 2)
