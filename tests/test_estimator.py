"""ProgressEstimator: one pass = incremental (KV cache), padding-invariant, exact save/load, LoRA, training."""

from __future__ import annotations

import random

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from conftest import PicklePayload, untrained_but_varied
from spa_gym.data import Trajectory
from spa_gym.progress import (
    EpisodeScorer,
    EstimatorTrainingConfig,
    ProgressEstimator,
    SPAReward,
    get_redistributor,
    train_estimator,
)
from spa_gym.progress.transcript import ACTION, OBSERVATION
from spa_gym.training import tiny_model_path


def random_walk(seed: int, steps: int = 12) -> Trajectory:
    env = gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=steps)
    obs, info = env.reset(seed=seed)
    walk = Trajectory("SPA-ALFWorld-v0", info["task_id"], info["task"], obs)
    rng = random.Random(seed)
    done = False
    while not done:
        action = rng.choice(info["admissible_actions"] + ["fly to the moon"])
        obs, reward, terminated, truncated, info = env.step(action)
        walk.add_step(action, obs, reward, info["grounded"])
        done = terminated or truncated
    walk.won = info["won"]
    return walk


@pytest.fixture(scope="module")
def estimator() -> ProgressEstimator:
    return untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=1)).eval()


def test_reads_the_head_at_each_action_end(estimator: ProgressEstimator) -> None:
    walk = random_walk(0, steps=5)
    encoded = estimator.encoder.encode(walk)
    assert len(encoded.action_ends) == 5
    closing_id = estimator.tokenizer.convert_tokens_to_ids(OBSERVATION)
    action_id = estimator.tokenizer.convert_tokens_to_ids(ACTION)
    assert all(encoded.input_ids[i] == closing_id for i in encoded.action_ends)
    assert all(encoded.input_ids[i] == action_id for i in encoded.action_starts)
    # the observation after the last action is not part of the sequence
    assert encoded.action_ends[-1] == len(encoded.input_ids) - 1
    assert encoded.input_ids.count(action_id) == 5


def test_incremental_scoring_equals_one_pass(estimator: ProgressEstimator) -> None:
    walk = random_walk(1)
    [one_pass] = estimator.score([walk])
    scorer = EpisodeScorer(estimator, walk.task, walk.initial_observation)
    incremental = []
    for step in walk.steps:
        incremental.append(scorer.score_action(step.action))
        scorer.observe(step.observation)
    assert incremental == pytest.approx(one_pass, abs=1e-5)
    assert len(set(round(c, 6) for c in one_pass)) > 1


def test_batching_with_padding_changes_nothing(estimator: ProgressEstimator) -> None:
    walks = [random_walk(seed, steps=3 + seed * 4) for seed in range(3)]
    alone = [estimator.score([w])[0] for w in walks]
    together = estimator.score(walks, batch_size=3)
    for a, b in zip(alone, together):
        assert a == pytest.approx(b, abs=1e-5)


def test_save_and_load_round_trip_exactly(estimator: ProgressEstimator, tmp_path) -> None:
    walks = [random_walk(3), random_walk(4)]
    estimator.save_pretrained(tmp_path / "est")
    loaded = ProgressEstimator.from_pretrained(tmp_path / "est")
    assert loaded.score(walks) == estimator.score(walks)
    assert (tmp_path / "est" / "head.safetensors").is_file()
    with pytest.raises(FileNotFoundError, match="not a saved progress estimator"):
        ProgressEstimator.from_pretrained(tmp_path)


def test_lora_estimator_trains_adapters_only_and_round_trips(tmp_path) -> None:
    from peft import LoraConfig

    lora = ProgressEstimator.from_backbone(tiny_model_path(), lora=LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    trainable = {n for n, p in lora.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    walks = [random_walk(5)]
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.add_(0.05)
    lora.save_pretrained(tmp_path / "lora")
    assert ((tmp_path / "lora" / "adapter").is_dir()
            and not (tmp_path / "lora" / "backbone" / "model.safetensors").exists())
    loaded = ProgressEstimator.from_pretrained(tmp_path / "lora")
    assert loaded.score(walks)[0] == pytest.approx(lora.score(walks)[0], abs=1e-6)


def test_training_fits_outcomes_and_resumes(tmp_path) -> None:
    walks = [random_walk(seed, steps=4) for seed in range(24)]
    for _, w in enumerate(walks):  # a learnable outcome: R = 1 when the first action is a "go to"
        w.final_reward = 1.0 if w.steps[0].action.startswith("go to") else 0.0
    args = EstimatorTrainingConfig(epochs=2, batch_size=8, lr=3e-3, val_fraction=0.25, progress=False, tensorboard=True)
    first = ProgressEstimator.from_backbone(tiny_model_path(), seed=0)
    interrupted = train_estimator(first, walks, tmp_path / "run", args)
    assert interrupted.epochs_run == 2 and (tmp_path / "run" / "tensorboard").is_dir()
    resumed = train_estimator(ProgressEstimator.from_backbone(tiny_model_path(), seed=0), walks, tmp_path / "run",
                              EstimatorTrainingConfig(**{**args.__dict__, "epochs": 4}))
    straight = train_estimator(ProgressEstimator.from_backbone(tiny_model_path(), seed=0), walks, tmp_path / "straight",
                               EstimatorTrainingConfig(**{**args.__dict__, "epochs": 4}))
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2, 3]
    assert [round(h["val_mse"], 5) for h in resumed.history] == [round(h["val_mse"], 5) for h in straight.history]
    assert resumed.best_val_mse == min(h["val_mse"] for h in resumed.history)
    best = ProgressEstimator.from_pretrained(tmp_path / "run" / "best")
    other = ProgressEstimator.from_pretrained(tmp_path / "straight" / "best").score(walks[:2])
    for mine, theirs in zip(best.score(walks[:2]), other):
        assert mine == pytest.approx(theirs, abs=1e-4)


def test_redistributors_exact_values(estimator: ProgressEstimator) -> None:
    a = Trajectory("e", "task-1", "t", "o")
    a.add_step("x", "o", 0.0, True)
    a.add_step("y", "Nothing happens.", 0.0, False)
    a.add_step("z", "o", 1.0, True)
    b = Trajectory("e", "task-1", "t", "o")
    b.add_step("x", "o", 0.0, True)
    c = Trajectory("e", "task-2", "t", "o")
    c.add_step("x", "o", 0.5, True)
    assert get_redistributor("sparse")([a, b]) == [[0.0, 0.0, 1.0], [0.0]]
    assert get_redistributor("uniform")([a]) == [[1 / 3, 1 / 3, 1 / 3]]
    # leave-one-out: a's baseline is b's R (0) -> advantage 1; b's is a's R (1) -> -1; c alone -> R
    assert get_redistributor("outcome-broadcast", beta=0.5)([a, b, c]) == [[1.5, 1.0, 1.5], [-0.5], [1.0]]
    walk = random_walk(6, steps=3)
    [cs] = estimator.score([walk])
    spa = get_redistributor("spa", estimator=estimator, reward=SPAReward(alpha=2.0, beta=0.5))([walk])[0]
    expected = [2.0 * c + 0.5 * s.grounded for c, s in zip(cs, walk.steps)]
    expected[-1] += walk.final_reward
    assert spa == pytest.approx(expected)
    no_final = get_redistributor("spa", estimator=estimator, reward=SPAReward(keep_final_reward=False))([walk])[0]
    assert no_final == pytest.approx([c + 0.5 * s.grounded for c, s in zip(cs, walk.steps)])
    assert [get_redistributor(name, estimator=estimator).describe() if name == "spa" else
            get_redistributor(name).describe() for name in ("sparse", "outcome-broadcast", "spa")] == [
        {"name": "sparse"}, {"name": "outcome-broadcast", "beta": 0.5},
        {"name": "spa", "alpha": 1.0, "beta": 0.5, "keep_final_reward": True}]
    with pytest.raises(ValueError, match="unknown redistributor"):
        get_redistributor("dense")
    with pytest.raises(ValueError, match="needs estimator"):
        get_redistributor("spa")


def test_task_prior_is_read_at_the_opening_and_round_trips(tmp_path) -> None:
    plain = untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=1)).eval()
    prior = untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=1, task_prior=True)).eval()
    walks = [random_walk(7, steps=4), random_walk(8, steps=6)]
    assert plain.priors(walks) == [0.0, 0.0]
    # the per-step contributions do not depend on whether c_0 is read as well
    assert prior.score(walks) == plain.score(walks)
    encoded = prior.encoder.encode(walks[0])
    assert encoded.opening_end == encoded.action_starts[0] - 1
    with torch.no_grad():
        hidden = prior.backbone(input_ids=torch.tensor([encoded.input_ids])).last_hidden_state[0, encoded.opening_end]
        expected = prior.head(hidden).item()
    assert prior.priors(walks)[0] == pytest.approx(expected, abs=1e-5)
    assert prior.priors(walks)[0] != pytest.approx(prior.priors(walks)[1])  # different tasks, different priors
    prior.save_pretrained(tmp_path / "prior")
    loaded = ProgressEstimator.from_pretrained(tmp_path / "prior")
    assert loaded.task_prior and loaded.priors(walks) == prior.priors(walks)
    # one batched, padded pass against the backbone and head read by hand, one walk at a time
    with torch.no_grad():
        by_hand = []
        for walk in walks:
            encoded = prior.encoder.encode(walk)
            hidden = prior.backbone(input_ids=torch.tensor([encoded.input_ids])).last_hidden_state[0]
            by_hand.append(prior.head(hidden[[encoded.opening_end, *encoded.action_ends]]).squeeze(-1).tolist())
    scores, priors = prior.score_with_priors(walks, batch_size=2)
    assert [len(s) for s in scores] == [len(w.steps) for w in walks] == [4, 6]
    assert priors == pytest.approx([row[0] for row in by_hand], abs=1e-5)
    for mine, row in zip(scores, by_hand):
        assert mine == pytest.approx(row[1:], abs=1e-5)


def test_outcome_and_prefix_value_losses_exact_values() -> None:
    from spa_gym.progress.train import outcome_loss, prefix_value_loss, training_loss

    contributions = torch.tensor([[0.1, 0.2, 0.3], [0.5, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    rewards = torch.tensor([1.0, 0.0])
    priors = torch.tensor([0.2, -0.1])
    # sums with the prior: 0.8 and 0.4 -> errors 0.2^2 and 0.4^2
    assert outcome_loss(contributions, rewards, priors).item() == pytest.approx((0.04 + 0.16) / 2)
    # partial sums: row 0: 0.2, 0.3, 0.5, 0.8 against 1; row 1: -0.1, 0.4 against 0 (padding ignored)
    expected_prefix = (0.64 + 0.49 + 0.25 + 0.04 + 0.01 + 0.16) / 6
    assert prefix_value_loss(contributions, mask, rewards, priors).item() == pytest.approx(expected_prefix)
    assert training_loss(contributions, mask, priors, rewards, 0.5).item() == pytest.approx(0.1 + 0.5 * expected_prefix)
    assert training_loss(contributions, mask, priors, rewards, 0.0).item() == pytest.approx(0.1)


def test_training_with_prior_prefix_and_linear_schedule_resumes_exactly(tmp_path, monkeypatch) -> None:
    from spa_gym.progress import train as train_module

    walks = [random_walk(seed, steps=4) for seed in range(16)]
    for w in walks:
        w.final_reward = 1.0 if w.steps[0].action.startswith("go to") else 0.0
    args = EstimatorTrainingConfig(epochs=3, batch_size=8, lr=3e-3, val_fraction=0.25, prefix_weight=1.0,
                                 schedule="linear", progress=False, tensorboard=False)

    def fresh() -> ProgressEstimator:
        return ProgressEstimator.from_backbone(tiny_model_path(), seed=0, task_prior=True)

    evaluations = {"count": 0}
    real_evaluate = train_module.evaluate_mse

    def crash_in_third_epoch(*a, **k):  # a crash after two epochs' checkpoints
        evaluations["count"] += 1
        if evaluations["count"] == 3:
            raise KeyboardInterrupt
        return real_evaluate(*a, **k)

    monkeypatch.setattr(train_module, "evaluate_mse", crash_in_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_estimator(fresh(), walks, tmp_path / "run", args)
    monkeypatch.setattr(train_module, "evaluate_mse", real_evaluate)
    resumed = train_estimator(fresh(), walks, tmp_path / "run", args)
    straight = train_estimator(fresh(), walks, tmp_path / "straight", args)
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2]
    assert [round(h["val_mse"], 5) for h in resumed.history] == [round(h["val_mse"], 5) for h in straight.history]
    assert ProgressEstimator.from_pretrained(tmp_path / "run" / "best").task_prior
    with pytest.raises(ValueError, match="schedule must be"):
        EstimatorTrainingConfig(schedule="cosine")


def test_atomic_save_keeps_a_whole_folder_through_a_crash(tmp_path) -> None:
    from spa_gym.training.checkpoints import recover_folder, save_atomically

    folder = tmp_path / "checkpoint"
    save_atomically(folder, lambda d: (d.mkdir(), (d / "a").write_text("1")))
    save_atomically(folder, lambda d: (d.mkdir(), (d / "a").write_text("2")))
    assert (folder / "a").read_text() == "2" and sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]

    def crash(d):
        d.mkdir()
        (d / "a").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_atomically(folder, crash)
    assert (folder / "a").read_text() == "2"
    folder.rename(tmp_path / "checkpoint.old")  # as if the crash came between the two renames
    assert (recover_folder(folder) / "a").read_text() == "2"


def test_a_planted_pickle_in_the_training_state_is_refused_not_run(tmp_path) -> None:
    walks = [random_walk(seed, steps=3) for seed in range(8)]
    args = EstimatorTrainingConfig(epochs=1, batch_size=4, val_fraction=0.25, progress=False, tensorboard=False)
    train_estimator(ProgressEstimator.from_backbone(tiny_model_path(), seed=0), walks, tmp_path / "run", args)
    state = tmp_path / "run" / "checkpoint" / "training_state.pt"
    marker = tmp_path / "pwned"
    torch.save({"optimizer": PicklePayload(str(marker))}, state)
    with pytest.raises(ValueError, match=r"cannot read the training state .*training_state\.pt: .*delete its folder"):
        train_estimator(ProgressEstimator.from_backbone(tiny_model_path(), seed=0), walks, tmp_path / "run",
                        EstimatorTrainingConfig(**{**args.__dict__, "epochs": 2}))
    assert not marker.exists()
    state.write_bytes(b"\x80\x04garbage")
    with pytest.raises(ValueError, match="cannot read the training state"):
        train_estimator(ProgressEstimator.from_backbone(tiny_model_path(), seed=0), walks, tmp_path / "run",
                        EstimatorTrainingConfig(**{**args.__dict__, "epochs": 2}))


def _truncate(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damage", [
    lambda f: (f / "spa_estimator.json").write_text("{not json"),
    lambda f: (f / "spa_estimator.json").write_text('{"format_version": 1}'),
    lambda f: (f / "spa_estimator.json").write_text("[]"),
    lambda f: (f / "spa_estimator.json").write_text('{"format_version": 99}'),
    lambda f: _truncate(f / "head.safetensors"),
    lambda f: (f / "head.safetensors").write_bytes(b"garbage"),
    lambda f: (f / "head.safetensors").unlink(),
    lambda f: _truncate(f / "backbone" / "model.safetensors"),
    lambda f: (f / "backbone" / "model.safetensors").unlink(),
    lambda f: (f / "backbone" / "config.json").write_text("{"),
    lambda f: (f / "backbone" / "tokenizer.json").write_text("{"),
    lambda f: __import__("shutil").rmtree(f / "backbone"),
], ids=["config-garbage", "config-keys", "config-list", "config-version", "head-truncated", "head-garbage",
        "head-missing", "weights-truncated", "weights-missing", "model-config", "tokenizer", "backbone-missing"])
def test_a_corrupted_estimator_folder_gives_one_error_naming_it(tmp_path, damage) -> None:
    from spa_gym.training.checkpoints import CheckpointError

    folder = tmp_path / "estimator"
    ProgressEstimator.from_backbone(tiny_model_path(), seed=0).save_pretrained(folder)
    damage(folder)
    with pytest.raises(CheckpointError) as raised:
        ProgressEstimator.from_pretrained(folder)
    message = str(raised.value)
    assert message.startswith(f"cannot load the progress estimator at {folder}: ")
    assert message.endswith("(save it again, or delete it and retrain)") and "\n" not in message

