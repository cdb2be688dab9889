"""What every env's prompt shares: the two styles, the react answer format, the prompt record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

PromptStyle = Literal["react", "compact"]

STYLES: tuple[str, ...] = get_args(PromptStyle)

#: Prefix of every user turn after the first of an episode, in the react style.
OBSERVATION_PREFIX = "Observation: "

#: The closing paragraph of every react instruction: the answer format and the example's place.
REACT_ANSWER_FORMAT = """\
Answer every turn in exactly this format, with one command after "Action:" and nothing after it:
Thought: <your reasoning about what to do next>
Action: <one command>

The first episode below is a solved example; your own task follows it."""


def check_style(style: str) -> None:
    """Raise ``ValueError`` naming the styles for an unknown ``style``."""
    if style not in STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {STYLES}")


@dataclass(frozen=True)
class EnvPrompt:
    """The fixed part of an env's chat: system instruction and in-context example.

    ``example`` alternates ``{"role": "user", ...}`` (observations; the first one is the example
    task's initial observation) and ``{"role": "assistant", ...}`` turns, and ends with an assistant
    turn. It is ``[]`` in the compact style.
    """

    instruction: str
    example: list[dict[str, str]] = field(default_factory=list)
    style: PromptStyle = "react"
    env_id: str = ""
