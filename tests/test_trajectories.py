"""Trajectory JSONL: round trip, crash tolerance, malformed lines named."""

from __future__ import annotations

import json

import pytest

from spa_gym.progress import Trajectory, TrajectoryWriter, read_trajectories


def walk(task: str) -> Trajectory:
    t = Trajectory("SPA-ALFWorld-v0", task, "put a mug in sinkbasin", "intro")
    t.add_step("look", "You see nothing.", 0.0, True, raw_output="Thought: look.\nAction: look")
    t.add_step("take mug 1 from sinkbasin 1", "You pick up ...", 1.0, True)
    t.won = True
    return t


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    with TrajectoryWriter(path) as writer:
        writer.write(walk("a"))
        writer.write(walk("b"))
    back = read_trajectories(path)
    assert back == [walk("a"), walk("b")]
    assert back[0].final_reward == 1.0 and back[0].steps[0].raw_output.startswith("Thought")


def test_truncated_last_line_is_skipped(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    with TrajectoryWriter(path) as writer:
        writer.write(walk("a"))
    text = json.dumps(walk("b").to_dict())
    path.write_text(path.read_text() + text[: len(text) // 2])
    assert [t.task_id for t in read_trajectories(path)] == ["a"]


def test_malformed_line_is_named(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    good = json.dumps(walk("a").to_dict())
    path.write_text(f"{good}\n{{oops\n{good}\n")
    with pytest.raises(ValueError, match=r"t.jsonl:2: not a JSON trajectory"):
        read_trajectories(path)
    path.write_text(json.dumps({"schema_version": 99}) + "\n")
    with pytest.raises(ValueError, match=r"t.jsonl:1: malformed trajectory: unsupported trajectory schema_version 99"):
        read_trajectories(path)
