"""The ``spa-gym`` command: a scripted play session, the subcommands, and their one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spa_gym.cli import main


def run_play(lines: list[str], *args: str, capsys) -> tuple[int, str]:
    feed = iter(lines)

    def fake_input(_prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    code = main(["play", "--env", "SPA-ALFWorld-v0", *args], input_fn=fake_input)
    return code, capsys.readouterr().out


def test_play_shows_observation_actions_and_nothing_happens(capsys) -> None:
    code, out = run_play(["/actions", "jump", "/quit"], "--seed", "0", "--task-id", "valid_seen-0001",
                         "--env-arg", "split=valid_seen", capsys=capsys)
    assert code == 0
    assert "task valid_seen-0001" in out
    assert "-= Welcome to TextWorld, ALFRED! =-" in out
    assert "  inventory\n  look\n" in out
    assert "Nothing happens." in out


def test_play_to_a_win_with_hints(capsys) -> None:
    code, out = run_play(["/hint"], "--task-id", "valid_seen-0002", "--env-arg", "split=valid_seen", capsys=capsys)
    hint = out.split("expert: ")[1].splitlines()[0]
    assert hint.startswith(("go to", "take", "open"))
    from spa_gym.envs.alfworld import Episode, TaskSuite, expert_plan

    plan = expert_plan(Episode(TaskSuite("valid_seen").game(2)))
    code, out = run_play(plan, "--task-id", "valid_seen-0002", "--env-arg", "split=valid_seen", capsys=capsys)
    assert code == 0
    assert f"Episode over after {len(plan)} steps: won, return 1." in out


def test_play_step_limit_and_bad_task(capsys) -> None:
    code, out = run_play(["look", "look"], "--seed", "1", "--max-steps", "2", capsys=capsys)
    assert "Episode over after 2 steps: step limit reached, return 0." in out
    code, out = run_play([], "--task-id", "nope-1", capsys=capsys)
    assert code == 2


def test_console_script_help_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "spa_gym.cli", "play", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "SPA-ALFWorld-v0" in result.stdout


def test_expert_export_writes_trajectories(tmp_path, capsys) -> None:
    from spa_gym.data import read_trajectories

    out = tmp_path / "expert.jsonl"
    code = main(["expert", "--env", "SPA-ALFWorld-v0", "--out", str(out), "--tasks", "5",
                 "--env-arg", "split=valid_unseen"])
    assert code == 0
    walks = read_trajectories(out)
    assert [w.task_id for w in walks] == [f"valid_unseen-{i:04d}" for i in range(5)]
    assert all(w.won and w.final_reward == 1.0 and w.steps[-1].reward == 1.0 for w in walks)
    assert all(all(step.grounded for step in w.steps) for w in walks)
    assert "wrote 5 expert trajectories" in capsys.readouterr().out


def test_collect_then_train_estimator_end_to_end(tmp_path, capsys) -> None:
    from spa_gym.data import read_trajectories
    from spa_gym.progress import ProgressEstimator

    data = tmp_path / "walks.jsonl"
    assert main(["collect", "--env", "SPA-ALFWorld-v0", "--policy", "noisy-expert", "--episodes", "12",
                 "--epsilon", "0.5", "--out", str(data), "--env-arg", "max_episode_steps=10"]) == 0
    code = main(["train-estimator", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "2",
                 "--batch-size", "4", "--val-fraction", "0.25", "--pretrain", "all", "--pretrain-epochs", "1",
                 "--backbone-lr", "1e-4", "--task-prior", "--prefix-weight", "1", "--schedule", "linear"])
    assert code == 0
    out = capsys.readouterr().out
    assert "trained on 12 trajectories for 2 epochs" in out
    assert (tmp_path / "run" / "backbone" / "model.safetensors").is_file()
    estimator = ProgressEstimator.from_pretrained(tmp_path / "run" / "best")
    walks = read_trajectories(data)
    assert [len(c) for c in estimator.score(walks)] == [len(w.steps) for w in walks]
    saved_args = json.loads((tmp_path / "run" / "training_result.json").read_text())["args"]
    assert estimator.task_prior and saved_args["prefix_weight"] == 1.0 and saved_args["schedule"] == "linear"
    assert main(["train-estimator", "--data", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "x")]) == 2


def test_unknown_schedule_or_estimator_recipe_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["train-estimator", "--data", str(tmp_path / "d.jsonl"), "--out", str(tmp_path / "e"),
                 "--schedule", "cosine"]) == 2
    assert ("spa-gym train-estimator: schedule must be one of ('constant', 'linear'), not 'cosine'"
            in capsys.readouterr().err)
    assert main(["run", "--preset", "smoke", "--out", str(tmp_path / "r"), "--estimator-recipe", "sum"]) == 2
    assert "spa-gym run: estimator_recipe must be one of ['prior', 'spa-rl'], not 'sum'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv, message", [
    (["expert", "--env", "SPA-ALFWorld-v0", "--out", "x.jsonl", "--env-arg", "split=bogus"],
     "spa-gym expert: unknown ALFWorld split 'bogus'; expected one of ('train', 'valid_seen', 'valid_unseen')\n"),
    (["expert", "--env", "SPA-ALFWorld-v0", "--out", "x.jsonl", "--env-arg", "max_episode_steps=abc"],
     "spa-gym expert: Expect the `max_episode_steps` to be an integer, actually: <class 'str'>\n"),
    (["play", "--env", "SPA-ALFWorld-v0", "--env-arg", "max_episode_steps=abc"],
     "spa-gym play: Expect the `max_episode_steps` to be an integer, actually: <class 'str'>\n"),
    (["train-estimator", "--data", "x.jsonl", "--backbone", "/nonexistent", "--out", "e"],
     "spa-gym train-estimator: no model folder at /nonexistent (models by name: tiny, smollm2-135m)\n"),
])
def test_bad_arguments_get_one_line_errors(argv, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    main(["expert", "--env", "SPA-ALFWorld-v0", "--out", "x.jsonl", "--tasks", "2"])
    capsys.readouterr()
    assert main(argv) == 2
    assert capsys.readouterr().err == message


def test_play_ends_quietly_when_stdin_is_closed(capsys) -> None:
    def closed(_prompt: str) -> str:
        raise RuntimeError("input(): lost sys.stdin")

    assert main(["play", "--env", "SPA-ALFWorld-v0", "--seed", "0"], input_fn=closed) == 0


def test_train_estimator_takes_the_runs_recipes_and_flags_override_them(monkeypatch) -> None:
    from spa_gym import cli

    seen: list[tuple] = []
    monkeypatch.setattr(cli, "train_estimator_command",
                        lambda data, backbone, out, lora_r, args, pretrain, pretrain_epochs, task_prior, data_format:
                        seen.append((args.lr, args.backbone_lr, args.prefix_weight, args.schedule, task_prior)) or 0)
    base = ["train-estimator", "--data", "d.jsonl", "--out", "e"]
    assert main(base) == 0
    assert main([*base, "--recipe", "prior"]) == 0
    assert main([*base, "--recipe", "prior", "--no-task-prior", "--lr", "0.01"]) == 0
    assert seen == [(1e-3, 3e-5, 0.0, "constant", False), (3e-4, 3e-5, 1.0, "linear", True),
                    (0.01, 3e-5, 1.0, "linear", False)]


def test_every_env_command_takes_env_as_an_option() -> None:
    from spa_gym.cli import build_parser

    parser = build_parser()
    for command in ("play", "expert", "collect", "run"):
        extra = {"play": [], "expert": ["--out", "x"],
                 "collect": ["--policy", "random", "--episodes", "1", "--out", "x"],
                 "run": ["--out", "x"]}[command]
        assert parser.parse_args([command, "--env", "SPA-WebShop-v0", *extra]).env_id == "SPA-WebShop-v0"


def test_eval_writes_a_stamped_result_and_prints_its_table(tmp_path, capsys) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", "--model", "tiny", "--env", "SPA-ALFWorld-v0", "--split", "valid_seen", "--limit", "2",
                 "--max-steps", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert ("**Not the full protocol**: split valid_seen (the benchmark evaluates on valid_unseen); step limit 2 "
            "(the benchmark's is 40); only the first 2 of the split's 140 tasks (limit 2).") in printed
    saved = json.loads(out.read_text())
    assert saved["status"] == "complete"
    assert {key: saved["protocol"][key] for key in ("env_id", "split", "max_steps", "limit", "tasks_evaluated")} == {
        "env_id": "SPA-ALFWorld-v0", "split": "valid_seen", "max_steps": 2, "limit": 2, "tasks_evaluated": 2}
    assert main(["eval", "--model", "tiny", "--limit", "0", "--out", str(tmp_path / "x.json")]) == 2


def test_convert_replay_and_train_estimator_on_the_fields_formats(tmp_path, capsys) -> None:
    from spa_gym.data import read_trajectories

    walks = tmp_path / "e.jsonl"
    assert main(["expert", "--env", "SPA-ALFWorld-v0", "--out", str(walks), "--tasks", "2",
                 "--env-arg", "split=valid_seen"]) == 0
    for fmt, name in (("eto", "e_eto.json"), ("spa-rl-explore", "e_spa.json")):
        assert main(["convert", str(walks), str(tmp_path / name), "--to", fmt]) == 0
    assert main(["replay", str(tmp_path / "e_spa.json"), "--out", str(tmp_path / "re.jsonl")]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 trajectories to" in printed and "2 of 2 trajectories replay as recorded (spa-rl-explore" in printed
    def played(path):
        return [[(s.action, s.observation, s.reward, s.grounded) for s in w.steps] for w in read_trajectories(path)]

    assert played(tmp_path / "re.jsonl") == played(walks)  # the env's own recording, rewards included
    # a recording the env does not reproduce: exit code 1 and the divergence named
    spa = json.loads((tmp_path / "e_spa.json").read_text())
    spa[1]["agent_conversations"][-1]["content"] = "Observation: something else"
    (tmp_path / "drift.json").write_text(json.dumps(spa))
    assert main(["replay", str(tmp_path / "drift.json")]) == 1
    assert "1 of 2 trajectories replay as recorded" in capsys.readouterr().out
    # ETO records hold no outcomes: the estimator refuses them, pointing at replay
    assert main(["train-estimator", "--data", str(tmp_path / "e_eto.json"), "--out", str(tmp_path / "x")]) == 2
    assert "the eto format records no outcomes" in capsys.readouterr().err
