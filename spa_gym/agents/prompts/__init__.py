"""Chat prompts of the LLM agent, per env, and robust parsing of the actions it writes.

Two prompt styles:

- ``"react"`` (for real chat LLMs, as in SPA-RL/ETO): a system instruction that names the env's
  command templates and the answer format ``Thought: <reasoning>`` / ``Action: <one command>``,
  then one in-context example episode, then the task. The example is *generated*: the env's
  expert plays a fixed task of the offline suite, and each assistant turn is the expert's command
  with a templated thought (:func:`templated_thought`).
- ``"compact"`` (for tiny word-level models with short contexts): a one-line instruction, no
  example, and assistant turns that are just the bare command.

The chat, as :func:`build_messages` renders it::

    system     the instruction
    user       example: initial observation (with its "Your task is to: ..." line)   } react only:
    assistant  example: "Thought: ...\\nAction: ..."                                   } the
    user       example: "Observation: <what the env answered>"                         } in-context
    ...        (the example ends with its winning assistant turn)                      } example
    user       the task's initial observation (as the env printed it)
    assistant  the agent's raw text of step 1
    user       the env's answer to step 1
    ...

User turns after the first of an episode carry the prefix ``"Observation: "`` in the react style
(the example's user turns and the live ones alike, so the model sees one format) and none in the
compact style; the first user turn of an episode is always the env's initial observation verbatim.

One module per env holds its texts (:mod:`.alfworld`, :mod:`.webshop`, :mod:`.virtualhome`);
:mod:`.style` what they share, :mod:`.chat` the conversation, :mod:`.parsing` the parsing of
model outputs. New envs register a builder ``style -> EnvPrompt`` in :data:`PROMPTS` (or through
:func:`register_prompt`); :func:`get_prompt` looks it up.

Example:
    >>> parse_action("Thought: the mug may be in the cabinet.\\nAction: go to cabinet 1.")
    'go to cabinet 1'
    >>> parse_action("I think I should\\nopen drawer 2")
    'open drawer 2'
    >>> parse_thought("Thought: the mug may be in the cabinet.\\nAction: go to cabinet 1")
    'the mug may be in the cabinet.'
    >>> format_assistant("take mug 1 from cabinet 1", None, "react")
    'Thought: I take mug 1 from cabinet 1.\\nAction: take mug 1 from cabinet 1'
    >>> prompt = get_prompt("SPA-ALFWorld-v0", "compact")
    >>> messages = build_messages(prompt, "You are in a room.", [("look", "You see nothing.")])
    >>> [m["role"] for m in messages]
    ['system', 'user', 'assistant', 'user']
    >>> messages[-1]["content"]
    'You see nothing.'
"""

from __future__ import annotations

from collections.abc import Callable

from . import alfworld, virtualhome, webshop
from .chat import (
    build_messages,
    expert_example_episode,
    expert_prompt_builder,
    format_assistant,
    format_observation,
    templated_thought,
)
from .parsing import parse_action, parse_thought
from .style import OBSERVATION_PREFIX, STYLES, EnvPrompt, PromptStyle, check_style

#: Prompt builders by env id: ``builder(style) -> EnvPrompt``. Envs add theirs here.
PROMPTS: dict[str, Callable[[PromptStyle], EnvPrompt]] = {
    module.ENV_ID: expert_prompt_builder(module.ENV_ID, module.REACT_INSTRUCTION, module.COMPACT_INSTRUCTION,
                                         module.EXAMPLE_SPLIT, module.EXAMPLE_INDEX)
    for module in (alfworld, webshop, virtualhome)
}


def register_prompt(env_id: str, builder: Callable[[PromptStyle], EnvPrompt]) -> None:
    """Register (or replace) the prompt builder of ``env_id``."""
    PROMPTS[env_id] = builder


def get_prompt(env_id: str, style: PromptStyle = "react") -> EnvPrompt:
    """The chat prompt of ``env_id`` in ``style``. Each call returns a fresh ``example`` list.

    Raises ``ValueError`` naming the known env ids for an env without a registered prompt, and
    naming the styles for an unknown style.
    """
    check_style(style)
    if env_id not in PROMPTS:
        raise ValueError(f"no agent prompt for env id {env_id!r}; prompts exist for {sorted(PROMPTS)}")
    return PROMPTS[env_id](style)


__all__ = [
    "OBSERVATION_PREFIX",
    "PROMPTS",
    "STYLES",
    "EnvPrompt",
    "PromptStyle",
    "build_messages",
    "expert_example_episode",
    "expert_prompt_builder",
    "format_assistant",
    "format_observation",
    "get_prompt",
    "parse_action",
    "parse_thought",
    "register_prompt",
    "templated_thought",
]
