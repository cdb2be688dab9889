"""JSON records on disk: a JSON array file or a JSONL file, read with the line of each record.

The exchange formats come both ways: ETO's, AgentGym's and SPA-RL's releases are JSON arrays
(``webshop_sft.json``), WebShop's demonstrations and spa-gym's own files are JSONL. Readers take
either; errors name the file and the line where the offending record starts.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.json"
    >>> write_records([{"id": 1}, {"id": 2}], path)
    2
    >>> print(path.read_text(), end="")
    [
    {"id": 1},
    {"id": 2}
    ]
    >>> list(iter_records(path))
    [(2, {'id': 1}), (3, {'id': 2})]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_WHITESPACE = " \t\r\n"


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """``(line, record)`` for each record of a JSON array file or a JSONL file (blank lines skipped).

    The layout is told by the first character that is not whitespace: ``[`` is a JSON array.
    Raises ``ValueError`` naming the file and line of a record that is not valid JSON.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        try:
            head = handle.read(4096).lstrip(_WHITESPACE)
            handle.seek(0)
            if head.startswith("["):
                yield from _array_records(path, handle.read())
                return
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, _loads(line, path, number)
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: not UTF-8 text: {error}") from error


def _loads(text: str, path: Path, line: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{line}: not JSON: {error.msg}") from error


def _array_records(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """The elements of a JSON array, decoded one at a time so that each keeps its line number."""
    decoder = json.JSONDecoder()
    position, line, counted = text.index("[") + 1, 1, 0

    def skip(at: int) -> int:
        while at < len(text) and text[at] in _WHITESPACE:
            at += 1
        return at

    position = skip(position)
    if text.startswith("]", position):
        return
    while True:
        line += text.count("\n", counted, position)
        counted = position
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{text.count(chr(10), 0, error.pos) + 1}: not JSON: {error.msg}") from error
        yield line, record
        position = skip(position)
        if text.startswith("]", position):
            if text[skip(position + 1):]:
                raise ValueError(f"{path}:{line + text.count(chr(10), counted, position)}: text after the JSON array")
            return
        if not text.startswith(",", position):
            raise ValueError(f"{path}:{line + text.count(chr(10), counted, position)}: expected ',' or ']' "
                             f"between the records of the JSON array")
        position = skip(position + 1)


def write_records(records: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    """Write records, one a line: JSONL for a ``.jsonl`` path, else a JSON array. Returns the count.

    The file is written beside its target and renamed into place, so a failed write leaves any
    earlier file as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    if path.suffix == ".jsonl":
        text = "".join(line + "\n" for line in lines)
    else:
        text = "[\n" + ",\n".join(lines) + ("\n]\n" if lines else "]\n")
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return len(lines)


def first_record(path: str | os.PathLike[str]) -> tuple[int, Any] | None:
    """The first ``(line, record)`` of a file (``None`` for a file without records)."""
    return next(iter_records(path), None)


def require(record: Any, fields: dict[str, type | tuple[type, ...]], where: str) -> dict[str, Any]:
    """``record`` if it is a JSON object with every field of ``fields`` of its type, else a one-line
    ``ValueError`` starting with ``where`` (``"file:line"``).

    Example:
        >>> require({"id": 3}, {"id": (int, str)}, "f.json:2")
        {'id': 3}
        >>> require({"id": None}, {"id": (int, str)}, "f.json:2")
        Traceback (most recent call last):
        ...
        ValueError: f.json:2: field 'id' is None, not int or str
    """
    if not isinstance(record, dict):
        raise ValueError(f"{where}: a record is a JSON object, not {type(record).__name__}")
    for name, types in fields.items():
        if name not in record:
            raise ValueError(f"{where}: the record lacks the field {name!r}")
        value = record[name]
        allowed = types if isinstance(types, tuple) else (types,)
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            names = " or ".join(t.__name__ for t in allowed)
            raise ValueError(f"{where}: field {name!r} is {value!r:.60}, not {names}")
    return record
