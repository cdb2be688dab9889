"""spa-gym compare: several runs' evaluations pooled, agents compared task by task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spa_gym.cli import main
from spa_gym.compare import comparison_report, sign_test
from spa_gym.data import Trajectory, TrajectoryWriter


def _run(folder: Path, wins: dict[str, list[bool]], preset: str = "cpu") -> Path:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"env_id": "SPA-WebShop-v0", "preset": preset, "model": None,
                                                    "seed": 0, "eval_split": None}))
    for agent, won in wins.items():
        with TrajectoryWriter(folder / f"eval-{agent}.jsonl") as writer:
            for task, w in enumerate(won):
                trajectory = Trajectory("SPA-WebShop-v0", f"test-{task}", "buy", "start")
                trajectory.add_step("click[buy now]", "done", 1.0 if w else 0.25, True)
                trajectory.won = w
                writer.write(trajectory)
        (folder / f"eval-{agent}.done").write_text("ok")
    return folder


def test_sign_test_is_the_exact_binomial_two_sided_p_value() -> None:
    assert sign_test(0, 0) == 1.0
    assert sign_test(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert sign_test(2, 8) == sign_test(8, 2)
    assert sign_test(5, 5) == 1.0


def test_report_pools_runs_and_counts_tasks_only_one_agent_won(tmp_path, capsys) -> None:
    a = _run(tmp_path / "a", {"sft": [True, False, False, False], "ppo-sparse": [True, True, False, False],
                              "ppo-spa": [False, True, True, True]})
    b = _run(tmp_path / "b", {"sft": [False, False, False, False], "ppo-sparse": [True, False, False, False]})
    report = comparison_report([a, b])
    assert "| SFT | 8 | 0.125 [0.022, 0.471] | 1/4, 0/4 | 0.344 [0.160, 0.527] | 1.000 [0.676, 1.000] |" in report
    assert "| PPO, SPA rewards | 4 | 0.750 [0.301, 0.954] | 3/4 |" in report
    assert "| PPO, sparse rewards vs SFT | 8 | 2 | 0 | 0.500 |" in report
    assert "| PPO, SPA rewards vs SFT | 4 | 3 | 1 | 0.625 |" in report
    assert "| PPO, SPA rewards vs PPO, sparse rewards | 4 | 2 | 1 | 1.000 |" in report
    assert main(["compare", str(a), str(b)]) == 0
    assert capsys.readouterr().out == report


def test_runs_of_different_presets_or_no_runs_are_refused_in_one_line(tmp_path, capsys) -> None:
    a = _run(tmp_path / "a", {"sft": [True]})
    b = _run(tmp_path / "b", {"sft": [True]}, preset="tiny")
    with pytest.raises(ValueError, match="differ in env, preset, model or eval split"):
        comparison_report([a, b])
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err == (f"spa-gym compare: {tmp_path / 'missing'} is not a spa-gym run folder "
                                       "(no config.json)\n")


def test_learning_curves_of_the_runs_are_drawn_to_an_image(tmp_path, capsys) -> None:
    a = _run(tmp_path / "a", {"sft": [True]})
    for rewards in ("sparse", "spa"):
        (a / f"ppo-{rewards}").mkdir()
        history = [{"env_steps": 10 * i, "success_rate": 0.1 * i, "grounding": 0.5} for i in (1, 2)]
        (a / f"ppo-{rewards}" / "ppo_history.json").write_text(json.dumps({"history": history}))
    png = tmp_path / "curves.png"
    assert main(["compare", str(a), "--plot", str(png)]) == 0
    assert capsys.readouterr().out.endswith(f"learning curves: {png}\n")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
