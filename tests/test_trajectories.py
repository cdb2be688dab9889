"""Trajectory JSONL: round trip, crash tolerance, malformed lines named."""

from __future__ import annotations

import json

import pytest

from spa_gym.data import Trajectory, TrajectoryWriter, read_trajectories


def walk(task: str) -> Trajectory:
    t = Trajectory("SPA-ALFWorld-v0", task, "put a mug in sinkbasin", "intro")
    t.add_step("look", "You see nothing.", 0.0, True, raw_output="Thought: look.\nAction: look")
    t.add_step("take mug 1 from sinkbasin 1", "You pick up ...", 1.0, True)
    t.won = True
    return t


def written(path, *tasks: str):
    """``path`` with one trajectory per task written to it."""
    with TrajectoryWriter(path) as writer:
        for task in tasks:
            writer.write(walk(task))
    return path


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    with TrajectoryWriter(path) as writer:
        writer.write(walk("a"))
        writer.write(walk("b"))
    back = read_trajectories(path)
    assert back == [walk("a"), walk("b")]
    assert back[0].final_reward == 1.0 and back[0].steps[0].raw_output.startswith("Thought")


def test_truncated_last_line_is_skipped(tmp_path) -> None:
    path = written(tmp_path / "t.jsonl", "a")
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


def test_a_last_line_cut_inside_a_utf8_character_is_skipped(tmp_path) -> None:
    path = written(tmp_path / "t.jsonl", "a")
    accented = walk("b")
    accented.task = "put a café crème in sinkbasin"
    line = json.dumps(accented.to_dict(), ensure_ascii=False).encode("utf-8")
    cut = line.index("é".encode()) + 1  # between the two bytes of "é"
    path.write_bytes(path.read_bytes() + line[:cut])
    assert [t.task_id for t in read_trajectories(path)] == ["a"]
    path.write_bytes(path.read_bytes() + b"\n" + line + b"\n")
    with pytest.raises(ValueError, match=r"t.jsonl:2: not a JSON trajectory: 'utf-8' codec can't decode"):
        read_trajectories(path)


def test_appending_after_a_crash_drops_the_cut_line_and_keeps_the_file_readable(tmp_path) -> None:
    path = written(tmp_path / "t.jsonl", "a")
    text = json.dumps(walk("b").to_dict())
    path.write_text(path.read_text() + text[: len(text) // 2])  # a crash mid-write
    with TrajectoryWriter(path) as writer:  # the run resumes and appends
        writer.write(walk("c"))
    assert [t.task_id for t in read_trajectories(path)] == ["a", "c"]
    only_cut = tmp_path / "cut.jsonl"
    only_cut.write_text(text[:10])
    written(only_cut, "d")
    assert [t.task_id for t in read_trajectories(only_cut)] == ["d"]


@pytest.mark.parametrize("change, message", [
    (lambda d: [d], "a trajectory is a JSON object, not list"),
    (lambda d: {**d, "final_reward": "high"}, "trajectory's final_reward is 'high', not int or float"),
    (lambda d: {**d, "won": 1}, "trajectory's won is 1, not bool"),
    (lambda d: {**d, "final_reward": True}, "trajectory's final_reward is True, not int or float"),
    (lambda d: {k: v for k, v in d.items() if k != "task"}, "trajectory lacks the field 'task'"),
    (lambda d: {**d, "extra": 1}, "trajectory has an unknown field 'extra'"),
    (lambda d: {**d, "steps": "look"}, "trajectory's steps is 'look', not list"),
    (lambda d: {**d, "steps": [3]}, "step 0 is a JSON object, not int"),
    (lambda d: {**d, "steps": [{**d["steps"][0], "grounded": "yes"}]}, "step 0's grounded is 'yes', not bool"),
    (lambda d: {**d, "steps": [{**d["steps"][0], "raw_output": 5}]}, "step 0's raw_output is 5, not str or NoneType"),
])
def test_a_line_of_the_wrong_shape_is_named_with_what_is_wrong(tmp_path, change, message) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(walk("a").to_dict()) + "\n" + json.dumps(change(walk("b").to_dict())) + "\n")
    with pytest.raises(ValueError) as raised:
        read_trajectories(path)
    assert str(raised.value) == f"{path}:2: malformed trajectory: {message}"
