"""The evaluation protocol (spa_gym.evaluation): every task once, the stamp, resuming, the breakdowns."""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import shutil
from pathlib import Path
from types import SimpleNamespace

import gymnasium as gym
import pytest
import torch
import transformers

import spa_gym
from spa_gym import evaluation
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.rollout import evaluate, wilson_interval
from spa_gym.data.trajectories import Trajectory, read_trajectories
from spa_gym.envs.alfworld.problem import TASK_TYPES
from spa_gym.envs.alfworld.suite import TASK_MIX
from spa_gym.evaluation import (
    ALFWORLD_TASK_LABELS,
    EvalConfig,
    alfworld_label,
    breakdown,
    default_decoding,
    evaluate_model,
    format_results,
    load_results,
    model_stamp,
    reset_seed,
    tasks_sha256,
)
from spa_gym.training import resolve_model, tiny_model_path

ALFWORLD = "SPA-ALFWorld-v0"
#: Small enough for two busy cores: 2 steps of at most 4 tokens per task.
QUICK = {"max_steps": 2, "max_new_tokens": 4}


class Crash(Exception):
    """Stands for a crash in the middle of an evaluation."""


class Recorder:
    """Wraps ``play_episodes``: records the task indices (and arguments) of each call; raises ``Crash``
    instead of making call number ``crash_on``."""

    def __init__(self, play, crash_on: int | None = None):
        self.play, self.crash_on, self.calls = play, crash_on, []

    def __call__(self, policy, envs, seeds=None, options=None, **kwargs):
        if self.crash_on is not None and len(self.calls) + 1 == self.crash_on:
            raise Crash
        self.calls.append({"tasks": [o["task_index"] for o in options], "seeds": list(seeds), **kwargs})
        return self.play(policy, envs, seeds, options, **kwargs)

    @property
    def tasks(self) -> list[int]:
        return [i for call in self.calls for i in call["tasks"]]


def fake_play(policy, envs, seeds=None, options=None, **kwargs):
    """One ``look`` per task, won on every third task index: a fast stand-in for the model."""
    episodes = []
    for env, seed, option in zip(envs, seeds, options):
        obs, info = env.reset(seed=seed, options=option)
        trajectory = Trajectory(env.spec.id, info["task_id"], info["task"], obs)
        won = option["task_index"] % 3 == 0
        trajectory.add_step("look", "ok", float(won), option["task_index"] % 2 == 0)
        trajectory.won = won
        episodes.append(SimpleNamespace(trajectory=trajectory))
    return episodes


@pytest.fixture(scope="module")
def policy() -> LLMPolicy:
    return LLMPolicy.from_pretrained(tiny_model_path())


def record(monkeypatch, play=evaluation.play_episodes, crash_on: int | None = None) -> Recorder:
    recorder = Recorder(play, crash_on)
    monkeypatch.setattr(evaluation, "play_episodes", recorder)
    return recorder


def lines(path: Path) -> list[dict]:
    return [t.to_dict() for t in read_trajectories(path)]


def test_alfworld_labels_map_the_six_types_exactly() -> None:
    assert set(ALFWORLD_TASK_LABELS) == set(TASK_TYPES)
    assert {t: alfworld_label(t) for t in TASK_TYPES} == {
        "pick_and_place_simple": "Pick",
        "look_at_obj_in_light": "Look",
        "pick_clean_then_place_in_recep": "Clean",
        "pick_heat_then_place_in_recep": "Heat",
        "pick_cool_then_place_in_recep": "Cool",
        "pick_two_obj_and_place": "Pick Two",
    }
    assert list(ALFWORLD_TASK_LABELS.values()) == ["Pick", "Clean", "Heat", "Cool", "Look", "Pick Two"]  # papers' order
    for wrong in ("pick_and_place_with_movable_recep", "Pick", "", "None"):
        with pytest.raises(ValueError, match="unknown ALFWorld task type"):
            alfworld_label(wrong)


def test_every_task_once_greedy_and_the_stamp_exact(tmp_path, monkeypatch) -> None:
    recorder = record(monkeypatch)
    config = EvalConfig("tiny", ALFWORLD, limit=5, batch_size=2, seed=3, **QUICK)
    result = evaluate_model(config, tmp_path / "eval.json", progress=False)  # loads the model itself

    task_ids = gym.make(ALFWORLD, split="valid_unseen").unwrapped.task_ids()
    played = [t["task_id"] for t in lines(tmp_path / "eval.jsonl")]
    assert played == task_ids[:5] and len(set(played)) == 5
    assert [call["tasks"] for call in recorder.calls] == [[0, 1], [2, 3], [4]]
    assert all(call["greedy"] is True and call["max_new_tokens"] == 4 and call["style"] == "compact"
               for call in recorder.calls)
    assert recorder.calls[0]["seeds"] == [reset_seed(3, "valid_unseen-0000"), reset_seed(3, "valid_unseen-0001")]

    weights = Path(tiny_model_path()) / "model.safetensors"
    p = result.protocol
    expected = {
        "spa_gym_version": spa_gym.__version__, "env_id": ALFWORLD,
        "env_class": "spa_gym.envs.alfworld.env.ALFWorldEnv", "num_tasks": 134, "source": "generated suite",
        "suite_version": "1", "grammar": "2.1.1", "task_mix": dict(zip(TASK_TYPES, TASK_MIX["valid_unseen"])),
        "env_kwargs": {}, "split": "valid_unseen", "benchmark_split": "valid_unseen", "max_steps": 2,
        "benchmark_max_steps": 40, "limit": 5, "tasks_evaluated": 5, "full_protocol": False,
        "deviations": ["step limit 2 (the benchmark's is 40)",
                       "only the first 5 of the split's 134 tasks (limit 5)"],
        "model": {"name": "tiny", "path": str(Path(tiny_model_path()).resolve()), "format": "transformers folder",
                  "tiny": True, "lora": False,
                  "weights_sha256": {"model.safetensors": hashlib.sha256(weights.read_bytes()).hexdigest()},
                  "weights_bytes": weights.stat().st_size},
        "style": "compact", "style_source": "model kind (tiny)",
        "prompt_sha256": evaluation.prompt_sha256(ALFWORLD, "compact"), "history": "full", "greedy": True,
        "generation_backend": "transformers", "max_new_tokens": 4, "seed": 3,
        "reset_seeds": "random.Random(f'{seed}-eval-{task_id}').randrange(2**31)",
        "batch_size": 2, "dtype": "float32", "device": "cpu", "python_version": platform.python_version(),
        "torch_version": torch.__version__, "transformers_version": transformers.__version__,
        "gymnasium_version": gym.__version__,
        "tasks_sha256": tasks_sha256(read_trajectories(tmp_path / "eval.jsonl")),
    }
    assert {k: v for k, v in p.items() if k != "date"} == expected
    age = datetime.datetime.now(datetime.timezone.utc) - datetime.datetime.fromisoformat(p["date"])
    assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=5)

    saved = json.loads((tmp_path / "eval.json").read_text())
    assert saved["status"] == "complete" and saved["protocol"] == p and saved["trajectories"] == "eval.jsonl"
    loaded = load_results(tmp_path / "eval.json")
    assert loaded.protocol == p and loaded.tasks == result.tasks and not loaded.full_protocol
    assert loaded.evaluation.episodes == 5
    text = format_results(loaded)
    assert "**Not the full protocol**: step limit 2" in text and "limit 5" in text
    assert all(f"| {label} |" in text for label in ALFWORLD_TASK_LABELS.values())


def test_a_crashed_run_resumes_without_replaying_and_ends_identical(tmp_path, monkeypatch, policy) -> None:
    config = EvalConfig("tiny", ALFWORLD, limit=6, batch_size=2, **QUICK)
    whole = evaluate_model(config, tmp_path / "whole.json", policy=policy, progress=False)

    first = record(monkeypatch, crash_on=3)
    with pytest.raises(Crash):
        evaluate_model(config, tmp_path / "cut.json", policy=policy, progress=False)
    assert first.tasks == [0, 1, 2, 3]
    assert json.loads((tmp_path / "cut.json").read_text())["status"] == "running"
    with pytest.raises(ValueError, match="not finished"):
        load_results(tmp_path / "cut.json")
    assert [t["task_id"] for t in lines(tmp_path / "cut.jsonl")] == [f"valid_unseen-{i:04d}" for i in range(4)]

    second = record(monkeypatch, play=first.play)
    resumed = evaluate_model(config, tmp_path / "cut.json", policy=policy, progress=False)
    assert second.tasks == [4, 5]  # every task played once over both runs
    assert lines(tmp_path / "cut.jsonl") == lines(tmp_path / "whole.jsonl")
    assert resumed.evaluation == whole.evaluation and resumed.tasks == whole.tasks
    saved = [json.loads((tmp_path / name).read_text()) for name in ("cut.json", "whole.json")]
    assert saved[0]["breakdown"] == saved[1]["breakdown"] and saved[0]["metrics"] == saved[1]["metrics"]
    drop = {"date"}
    assert {k: v for k, v in resumed.protocol.items() if k not in drop} == \
        {k: v for k, v in whole.protocol.items() if k not in drop}

    third = record(monkeypatch, play=first.play)  # a finished run plays nothing more
    assert evaluate_model(config, tmp_path / "cut.json", policy=policy, progress=False).tasks == whole.tasks
    assert third.calls == []


def test_a_killed_run_with_a_cut_line_resumes_and_a_limit_run_extends(tmp_path, monkeypatch, policy) -> None:
    small = EvalConfig("tiny", ALFWORLD, limit=3, batch_size=2, **QUICK)
    evaluate_model(small, tmp_path / "eval.json", policy=policy, progress=False)
    wanted = lines(tmp_path / "eval.jsonl")
    # A kill mid-write: task 2's line cut in half, and the results file still says "running".
    raw = (tmp_path / "eval.jsonl").read_bytes().split(b"\n")
    (tmp_path / "eval.jsonl").write_bytes(b"\n".join(raw[:2]) + b"\n" + raw[2][: len(raw[2]) // 2])
    saved = json.loads((tmp_path / "eval.json").read_text())
    (tmp_path / "eval.json").write_text(json.dumps({**saved, "status": "running"}))

    recorder = record(monkeypatch)
    evaluate_model(small, tmp_path / "eval.json", policy=policy, progress=False)
    assert recorder.tasks == [2]
    assert lines(tmp_path / "eval.jsonl") == wanted

    larger = EvalConfig("tiny", ALFWORLD, limit=5, batch_size=2, **QUICK)
    result = evaluate_model(larger, tmp_path / "eval.json", policy=policy, progress=False)
    assert recorder.tasks == [2, 3, 4]
    ids = [t["task_id"] for t in lines(tmp_path / "eval.jsonl")]
    assert ids == [f"valid_unseen-{i:04d}" for i in range(5)] and lines(tmp_path / "eval.jsonl")[:3] == wanted
    assert result.protocol["limit"] == 5 and result.evaluation.episodes == 5
    with pytest.raises(ValueError, match="already holds the results of 5 tasks"):  # a finished run is kept
        evaluate_model(small, tmp_path / "eval.json", policy=policy, progress=False)


def test_files_of_another_protocol_are_refused(tmp_path, monkeypatch, policy) -> None:
    config = EvalConfig("tiny", ALFWORLD, limit=2, batch_size=2, **QUICK)
    evaluate_model(config, tmp_path / "eval.json", policy=policy, progress=False)
    before = (tmp_path / "eval.json").read_text()
    recorder = record(monkeypatch)
    other = EvalConfig("tiny", ALFWORLD, limit=2, batch_size=2, max_steps=2, max_new_tokens=5)
    with pytest.raises(ValueError, match="another protocol .*max_new_tokens"):
        evaluate_model(other, tmp_path / "eval.json", policy=policy, progress=False)
    assert recorder.calls == [] and (tmp_path / "eval.json").read_text() == before

    shutil.copy(tmp_path / "eval.jsonl", tmp_path / "orphan.jsonl")
    with pytest.raises(ValueError, match="orphan.json is missing"):
        evaluate_model(config, tmp_path / "orphan.json", policy=policy, progress=False)
    with pytest.raises(ValueError, match="ends in .json"):
        evaluate_model(config, tmp_path / "eval.jsonl", policy=policy, progress=False)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        EvalConfig("tiny", limit=0)
    with pytest.raises(ValueError, match="unknown env id"):
        EvalConfig("tiny", env_id="CartPole-v1")


def test_the_whole_split_is_the_full_protocol_and_the_breakdown_sums_to_the_totals(
        tmp_path, monkeypatch, policy) -> None:
    recorder = record(monkeypatch, play=fake_play)
    result = evaluate_model(EvalConfig("tiny", ALFWORLD, batch_size=32), tmp_path / "eval.json", policy=policy,
                            progress=False)
    assert recorder.tasks == list(range(134))
    assert result.full_protocol and result.protocol["deviations"] == [] and result.protocol["limit"] is None
    assert result.protocol["max_steps"] == 40 and result.protocol["tasks_evaluated"] == 134

    suite = gym.make(ALFWORLD, split="valid_unseen").unwrapped.suite
    assert [t.task_type for t in result.tasks] == [suite.task_type(i) for i in range(134)]
    groups = {g.task_type: g for g in result.breakdown}
    assert [g.label for g in result.breakdown] == ["Pick", "Clean", "Heat", "Cool", "Look", "Pick Two"]
    assert {t: groups[t].evaluation.episodes for t in TASK_TYPES} == dict(zip(TASK_TYPES, TASK_MIX["valid_unseen"]))
    assert sum(g.evaluation.episodes for g in result.breakdown) == result.evaluation.episodes == 134
    wins = {t: sum(row.won for row in result.tasks if row.task_type == t) for t in TASK_TYPES}
    assert sum(wins.values()) == sum(i % 3 == 0 for i in range(134)) == 45
    for task_type, group in groups.items():
        assert group.evaluation.success_rate == wilson_interval(wins[task_type], group.evaluation.episodes)
    assert result.evaluation == evaluate(read_trajectories(tmp_path / "eval.jsonl"))
    text = format_results(result)
    assert "Not the full protocol" not in text and "| All | 134 | 45 |" in text


def test_breakdown_of_each_env() -> None:
    def walk(task_id: str, won: bool) -> Trajectory:
        trajectory = Trajectory("e", task_id, "task", "obs")
        trajectory.add_step("a", "o", float(won), True)
        trajectory.won = won
        return trajectory

    walks = [walk(f"t{i}", i < 2) for i in range(4)]
    groups = breakdown("SPA-VirtualHome-v0", walks, ["make_coffee", "watch_tv", "make_coffee", "watch_tv"])
    assert [(g.label, g.task_type, g.evaluation.episodes) for g in groups] == [
        ("Watch TV", "watch_tv", 2), ("Make coffee", "make_coffee", 2)]  # the suite's order
    assert breakdown("SPA-WebShop-v0", walks, [None] * 4) == []
    alf = breakdown(ALFWORLD, walks, ["look_at_obj_in_light"] * 3 + ["pick_two_obj_and_place"])
    assert [g.evaluation.episodes for g in alf] == [0, 0, 0, 0, 3, 1]
    with pytest.raises(ValueError, match="unknown ALFWorld task type"):
        breakdown(ALFWORLD, walks, ["look_at_obj_in_light"] * 3 + [None])


def test_webshop_and_virtualhome_stamps(tmp_path) -> None:
    shop_model = LLMPolicy.from_pretrained(resolve_model("tiny", "SPA-WebShop-v0"))
    shop = evaluate_model(EvalConfig("tiny", "SPA-WebShop-v0", limit=2, **QUICK), tmp_path / "shop.json",
                          policy=shop_model, progress=False)
    p = shop.protocol
    assert {k: p[k] for k in ("split", "num_tasks", "source", "catalog_key", "catalog_size", "catalog_seed",
                              "catalog_generator_version", "human_goals", "price_seed", "observation_mode")} == {
        "split": "test", "num_tasks": 200, "source": "generated catalog", "catalog_key": "catalog-v1-n1000-s0",
        "catalog_size": 1000, "catalog_seed": 0, "catalog_generator_version": "1", "human_goals": True,
        "price_seed": 0, "observation_mode": "text"}
    assert p["model"]["path"] == str(Path(resolve_model("tiny", "SPA-WebShop-v0")).resolve())
    assert shop.breakdown == [] and shop.score is not None
    assert shop.score.value == pytest.approx(100 * shop.evaluation.average_reward.value)
    assert "score (0-100)" in format_results(shop)
    assert json.loads((tmp_path / "shop.json").read_text())["metrics"]["score"]["value"] == shop.score.value

    home_model = LLMPolicy.from_pretrained(resolve_model("tiny", "SPA-VirtualHome-v0"))
    home = evaluate_model(EvalConfig("tiny", "SPA-VirtualHome-v0", limit=2, **QUICK), tmp_path / "home.json",
                          policy=home_model, progress=False)
    suite = gym.make("SPA-VirtualHome-v0", split="test_unseen").unwrapped.suite
    assert [t.task_type for t in home.tasks] == [suite.activity(0), suite.activity(1)]
    assert sum(g.evaluation.episodes for g in home.breakdown) == 2
    assert {k: home.protocol[k] for k in ("split", "num_tasks", "suite_version", "strict_parity")} == {
        "split": "test_unseen", "num_tasks": 247, "suite_version": "1", "strict_parity": False}
    assert home.score is None


def test_style_comes_from_the_training_history_else_the_model_kind(tmp_path) -> None:
    folder = tmp_path / "sft"
    folder.mkdir()
    stamp = {"path": str(folder), "format": "transformers folder", "tiny": True}
    assert default_decoding(stamp, None, None) == ("compact", "model kind (tiny)", 40)
    assert default_decoding({**stamp, "tiny": False}, None, None) == ("react", "model kind (pretrained)", 128)
    (folder / "sft_history.json").write_text(json.dumps({"args": {"style": "react"}}))
    assert default_decoding(stamp, None, None) == ("react", "sft_history.json", 128)
    assert default_decoding(stamp, "compact", 9) == ("compact", "given", 9)
    ppo = tmp_path / "ppo-spa" / "policy"
    ppo.mkdir(parents=True)
    (ppo.parent / "ppo_history.json").write_text(json.dumps({"args": {"style": "compact", "max_new_tokens": 12}}))
    assert default_decoding({**stamp, "path": str(ppo)}, None, None) == ("compact", "ppo_history.json", 12)
    assert model_stamp("org/model", "org/model")["format"] == "hub id"


def test_a_saved_policy_is_stamped_with_its_files_and_its_lora_base(tmp_path, policy) -> None:
    from spa_gym.training import lora_config

    policy.save_pretrained(tmp_path / "full")
    stamp = model_stamp(str(tmp_path / "full"), str(tmp_path / "full"))
    files = {name: hashlib.sha256((tmp_path / "full" / name).read_bytes()).hexdigest()
             for name in ("model/model.safetensors", "value_head.safetensors")}
    assert stamp["format"] == "spa-gym policy" and stamp["tiny"] and not stamp["lora"]
    assert stamp["weights_sha256"] == files
    assert default_decoding(stamp, None, None)[:2] == ("compact", "model kind (tiny)")

    LLMPolicy.from_pretrained(tiny_model_path(), lora=lora_config(rank=2)).save_pretrained(tmp_path / "lora")
    stamp = model_stamp("lora", str(tmp_path / "lora"))
    assert stamp["lora"] and stamp["tiny"] and "adapter/adapter_model.safetensors" in stamp["weights_sha256"]
    base = Path(tiny_model_path()) / "model.safetensors"
    assert stamp["base_model"]["weights_sha256"] == {"model.safetensors": hashlib.sha256(base.read_bytes()).hexdigest()}
