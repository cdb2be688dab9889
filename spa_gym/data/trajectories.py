"""Trajectories: the data that flows from envs to the estimator and the trainers, and its JSONL form.

One trajectory per JSONL line: env id, task id, task text, the initial observation, the steps
(action, raw model output if any, next observation, sparse reward, grounded, and the key of the
state the action was taken in when the env gave one), the final reward,
won, and a schema version. Writers flush every line, so a crash loses at most the line being
written, and a writer appending to a file a crash cut short first drops the cut line; readers skip
a truncated last line and reject any other malformed line (bad JSON or UTF-8, not an object, a
field of the wrong type), naming it.

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
    """One step: the action sent, the raw model output it came from (if any), and what came back.

    ``state_key`` is ``info["state_key"]`` of the state the action was taken in (the anchor state
    of :mod:`spa_gym.credit.gigpo`), when it was recorded.
    """

    action: str
    observation: str
    reward: float
    grounded: bool
    raw_output: str | None = None
    state_key: str | None = None


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
                 raw_output: str | None = None, state_key: str | None = None) -> None:
        """Append a step; the final reward is the last step's sparse reward."""
        self.steps.append(Step(action, observation, float(reward), bool(grounded), raw_output, state_key))
        self.final_reward = float(reward)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Trajectory:
        """The trajectory of :meth:`to_dict`'s form; ``ValueError`` says what is wrong with any other."""
        if not isinstance(data, dict):
            raise ValueError(f"a trajectory is a JSON object, not {type(data).__name__}")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported trajectory schema_version {version!r} (this spa-gym reads {SCHEMA_VERSION})")
        _check_fields(data, _TRAJECTORY_FIELDS, "trajectory")
        steps = data.get("steps", [])
        for number, step in enumerate(steps):
            if not isinstance(step, dict):
                raise ValueError(f"step {number} is a JSON object, not {type(step).__name__}")
            _check_fields(step, _STEP_FIELDS, f"step {number}")
        return cls(**{**data, "steps": [Step(**step) for step in steps]})


_NUMBER = (int, float)
#: Field -> (accepted types, required) of a trajectory and of a step in JSON.
_TRAJECTORY_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "env_id": ((str,), True), "task_id": ((str,), True), "task": ((str,), True),
    "initial_observation": ((str,), True), "steps": ((list,), False), "final_reward": (_NUMBER, False),
    "won": ((bool,), False), "schema_version": ((int,), True),
}
_STEP_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "action": ((str,), True), "observation": ((str,), True), "reward": (_NUMBER, True),
    "grounded": ((bool,), True), "raw_output": ((str, type(None)), False),
    "state_key": ((str, type(None)), False),
}


def _check_fields(data: dict[str, Any], fields: dict[str, tuple[tuple[type, ...], bool]], what: str) -> None:
    for name in data:
        if name not in fields:
            raise ValueError(f"{what} has an unknown field {name!r}")
    for name, (types, required) in fields.items():
        if name not in data:
            if required:
                raise ValueError(f"{what} lacks the field {name!r}")
            continue
        value = data[name]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise ValueError(f"{what}'s {name} is {value!r}, not {' or '.join(t.__name__ for t in types)}")


class TrajectoryWriter:
    """Append trajectories to a JSONL file, one flushed line each (a context manager)."""

    def __init__(self, path: str | os.PathLike[str], append: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if append:
            _drop_cut_line(self.path)
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


def _drop_cut_line(path: Path) -> None:
    """Cut a file that does not end in a newline (a crash mid-write) back to its last whole line,
    so that the next line appended is not glued to the cut one."""
    if not path.is_file():
        return
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        keep = size
        while keep > 0:
            start = max(0, keep - 65536)
            handle.seek(start)
            newline = handle.read(keep - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        handle.truncate(keep)


def read_trajectories(path: str | os.PathLike[str]) -> list[Trajectory]:
    """Read a JSONL file of trajectories.

    A truncated last line (a crash mid-write, even inside a UTF-8 character) is skipped; any other
    line that is not a valid trajectory raises ``ValueError`` with the file and line number.
    """
    path = Path(path)
    lines = path.read_bytes().split(b"\n")
    ends_cleanly = lines[-1] == b""
    if ends_cleanly:
        lines.pop()
    trajectories = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            if number == len(lines) and not ends_cleanly:
                break  # the line a crash cut short
            raise ValueError(f"{path}:{number}: not a JSON trajectory: {error}") from error
        try:
            trajectories.append(Trajectory.from_dict(data))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}:{number}: malformed trajectory: {error}") from error
    return trajectories
