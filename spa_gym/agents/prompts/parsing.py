"""Robust parsing of the commands (and thoughts) a model writes."""

from __future__ import annotations

import re

from .style import PromptStyle

_ACTION_MARK = re.compile(r"\baction\s*:", re.IGNORECASE)
_THOUGHT_MARK = re.compile(r"\bthought\s*:", re.IGNORECASE)
_NEXT_MARK = re.compile(r"\b(?:observation|thought)\s*:", re.IGNORECASE)
_QUOTES = "\"'`\u201c\u201d\u2018\u2019*"
_PAIRS = {"[": "]", "(": ")", "<": ">", "{": "}"}


def _clean(command: str) -> str:
    """Cut at an inline ``Observation:``/``Thought:``; strip spaces, wrapping quotes/backticks/bold
    marks, a wrapping bracket pair, one trailing '.'."""
    following = _NEXT_MARK.search(command)
    if following:
        command = command[: following.start()]
    previous, period = None, False
    while command != previous:
        previous = command
        command = command.strip().strip(_QUOTES).strip()
        if command.endswith(".") and not period:
            command, period = command[:-1], True
        if len(command) >= 2 and _PAIRS.get(command[0]) == command[-1]:
            inner = command[1:-1]
            if command[0] not in inner and command[-1] not in inner:  # "[a] [b]" or "search[x]" stay
                command = inner
    return command


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def parse_action(text: str, style: PromptStyle = "react") -> str:
    """The command in a model's output; never raises, ``""`` when there is none.

    react: the text after the last ``Action:`` (any case), its first non-empty line; without any
    ``Action:``, the last non-empty line. compact: the first non-empty line (a leading ``Action:``
    is dropped). Then surrounding quotes, backticks, ``**`` and a wrapping bracket pair are removed,
    and one trailing ``.`` (ALFWorld commands never end with one).

    Example:
        >>> parse_action("Thought: go.\\naction: 'take apple 1 from fridge 1'.\\nObservation: ...")
        'take apple 1 from fridge 1'
        >>> parse_action("")
        ''
        >>> parse_action("look\\ninventory", "compact")
        'look'
    """
    if not isinstance(text, str):
        return ""
    if style == "compact":
        line = _first_line(text)
        mark = _ACTION_MARK.match(line.strip())
        if mark:
            line = line.strip()[mark.end():]
        return _clean(line)
    marks = list(_ACTION_MARK.finditer(text))
    if marks:
        line = _first_line(text[marks[-1].end():])
    else:
        lines = [line for line in text.splitlines() if line.strip()]
        line = lines[-1] if lines else ""
    return _clean(line)


def parse_thought(text: str) -> str:
    """The reasoning in a react output: the text between the first ``Thought:`` and the last
    ``Action:`` (or the start and end of the text where a marker is missing), stripped; ``""``
    when there is none. Without any ``Action:``, the last non-empty line is the action (as in
    :func:`parse_action`) and is left out.

    Example:
        >>> parse_thought("Thought: it is in the fridge.\\nAction: go to fridge 1")
        'it is in the fridge.'
        >>> parse_thought("go to fridge 1")
        ''
    """
    if not isinstance(text, str):
        return ""
    marks = list(_ACTION_MARK.finditer(text))
    if marks:
        head = text[: marks[-1].start()]
    else:
        lines = text.rstrip().splitlines()
        head = "\n".join(lines[:-1])
    thought = _THOUGHT_MARK.search(head)
    if thought:
        head = head[thought.end():]
    return head.strip()
