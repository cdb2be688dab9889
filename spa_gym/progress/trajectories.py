"""Trajectories: the data that flows from envs to the estimator and the trainers, and its JSONL form.

One trajectory per JSONL line: env id, task id, task text, the initial observation, the steps
(action, raw model output if any, next observation, sparse reward, grounded), the final reward,
won, and a schema version. Writers flush every line, so a crash loses at most the line being
written; readers skip a truncated last line and reject any other malformed line, naming it.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "walks.jsonl"
    >>> walk = Trajectory("SPA-ALFWorld-v0", "train-0001", "put a mug in sinkbasin", "-= Welcome ...")
    >>> walk.add_step("look", "You are in the middle of a room.", 0.0, True)
    >>> with TrajectoryWriter(path) as writer:
    ...     writer.write(walk)
    >>> read_trajectories(path)[0].steps[0].action
    'look'
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

SCHEMA_VERSION = 1


@dataclass
class Step:
    """One step: the action sent, the raw model output it came from (if any), and what came back."""

    action: str
    observation: str
    reward: float
    grounded: bool
    raw_output: str | None = None


@dataclass
class Trajectory:
    """One episode of one task."""

    env_id: str
    task_id: str
    task: str
    initial_observation: str
    steps: list[Step] = field(default_factory=list)
    final_reward: float = 0.0
    won: bool = False
    schema_version: int = SCHEMA_VERSION

    def add_step(self, action: str, observation: str, reward: float, grounded: bool,
                 raw_output: str | None = None) -> None:
        """Append a step; the final reward is the last step's sparse reward."""
        self.steps.append(Step(action, observation, float(reward), bool(grounded), raw_output))
        self.final_reward = float(reward)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported trajectory schema_version {version!r} (this spa-gym reads {SCHEMA_VERSION})")
        fields = dict(data)
        fields["steps"] = [Step(**step) for step in data.get("steps", [])]
        return cls(**fields)


class TrajectoryWriter:
    """Append trajectories to a JSONL file, one flushed line each (a context manager)."""

    def __init__(self, path: str | os.PathLike[str], append: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(self.path, "a" if append else "w", encoding="utf-8")

    def write(self, trajectory: Trajectory) -> None:
        self._file.write(json.dumps(trajectory.to_dict(), ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trajectories(path: str | os.PathLike[str]) -> list[Trajectory]:
    """Read a JSONL file of trajectories.

    A truncated last line (a crash mid-write) is skipped; any other line that is not a valid
    trajectory raises ``ValueError`` with the file and line number.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    ends_cleanly = lines[-1] == ""
    if ends_cleanly:
        lines.pop()
    trajectories = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            trajectories.append(Trajectory.from_dict(json.loads(line)))
        except json.JSONDecodeError as error:
            if number == len(lines) and not ends_cleanly:
                break  # the line a crash cut short
            raise ValueError(f"{path}:{number}: not a JSON trajectory: {error}") from error
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}:{number}: malformed trajectory: {error}") from error
    return trajectories
