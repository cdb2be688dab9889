"""Episodes as chats: the turns of the conversation formats and their spa-gym trajectories.

ETO, AgentGym and SPA-RL store an episode as a list of turns between a human (the env and the
harness) and gpt (the agent), as FastChat does::

    human  the instruction                       } the preamble's head
    gpt    OK                                    }
    human  example: first observation            } the preamble's in-context example
    gpt    example: Thought: ...\\nAction: ...    } (SPA-RL's exploration records: 8 turns on
    ...                                          }  WebShop, 10 on ALFWorld; ETO's SFT data: none)
    human  the task's first observation, as the env printed it
    gpt    Thought: ...\\nAction: <command>
    human  Observation: <the env's answer>        (ETO/SPA-RL: "Observation:\\n" on WebShop,
    ...                                            "Observation: " elsewhere; AgentGym: none)

Reading (:func:`from_turns`): the head is the first two turns when the second is an ``OK``
acknowledgement. In formats whose observations carry the ``Observation:`` prefix, the task starts
at the last human turn without it, so an in-context example between head and task is recognised
and kept apart; ``preamble_turns=`` says where the task starts instead. The prefix is removed from
every observation (the first one's too, should it have one), each assistant turn's action is
parsed (:func:`.inference.parse_action`) and the turn is kept as the step's ``raw_output``, except
when it is exactly ``"Action: <action>"``, what the writers write for a step without one. A chat
that ends on an assistant turn did not record the last answer: the step's observation is ``""``.

Writing (:func:`to_turns`): the preamble, the first observation, then per step the assistant turn
(``raw_output``, or ``"Action: <action>"``, or what ``assistant=`` makes of the step) and the
prefixed answer; an empty last answer is left out. An assistant turn in which the rule above would
not find the action the env was sent (a model's ``Action: 'go to desk 1'.``, which spa-gym's agent
parser reads as ``go to desk 1``) gets a last line ``Action: <action>``, so that the record says
what was sent: its action then reads back exactly, its ``raw_output`` with that line.

Example:
    >>> turns = [("human", "Shop."), ("gpt", "OK"),
    ...          ("human", "WebShop [SEP] Instruction: [SEP] i need a lamp [SEP] Search"),
    ...          ("gpt", "Thought: search.\\nAction: search[lamp]"),
    ...          ("human", "Observation:\\nInstruction: [SEP] i need a lamp [SEP] Back to Search")]
    >>> talk = from_turns(turns, ETO_STYLE, "f.json:1", task_id=13, final_reward=0.0)
    >>> talk.preamble.head, talk.trajectory.task_id, talk.trajectory.task, talk.trajectory.steps[0].action
    ((('human', 'Shop.'), ('gpt', 'OK')), 'all-0013', 'i need a lamp', 'search[lamp]')
    >>> to_turns(talk.trajectory, ETO_STYLE, preamble=talk.preamble) == turns
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..trajectories import Step, Trajectory
from .inference import WEBSHOP, infer_env_id, infer_grounded, parse_action, spa_task_id, task_text
from .records import require

#: One turn: ``(role, text)``, role ``"human"`` or ``"gpt"``.
Turn = tuple[str, str]
#: Makes the assistant turn of a step (the writers' ``assistant=``).
Assistant = Callable[[Step], str]

HUMAN, GPT = "human", "gpt"
OBSERVATION_MARK = "Observation:"


@dataclass(frozen=True)
class Preamble:
    """The turns before the task: the instruction and its acknowledgement (``head``) and an
    in-context example episode (``example``)."""

    head: tuple[Turn, ...] = ()
    example: tuple[Turn, ...] = ()

    @property
    def turns(self) -> tuple[Turn, ...]:
        return self.head + self.example


#: A chat without preamble: the task's first observation comes first.
NO_PREAMBLE = Preamble()


def instruction_preamble(instruction: str, acknowledgement: str = "OK") -> Preamble:
    """The head ETO and SPA-RL put before every task: the instruction, then the agent's ``OK``.

    Example:
        >>> instruction_preamble("You are web shopping.").turns
        (('human', 'You are web shopping.'), ('gpt', 'OK'))
    """
    return Preamble(((HUMAN, instruction), (GPT, acknowledgement)))


@dataclass
class Conversation:
    """A trajectory and the preamble of the chat it was read from (or is to be written with)."""

    trajectory: Trajectory
    preamble: Preamble = field(default_factory=Preamble)


@dataclass(frozen=True)
class ChatStyle:
    """How a format writes an episode: the prefix of observations after the first (``prefixes``
    overrides it per env id), and whether its preambles may hold an in-context example."""

    observation_prefix: str = ""
    prefixes: tuple[tuple[str, str], ...] = ()
    has_example: bool = False

    def prefix(self, env_id: str) -> str:
        return dict(self.prefixes).get(env_id, self.observation_prefix)


#: ETO's harness (also SPA-RL's): ``Observation:\n`` on WebShop; ``Observation: `` elsewhere (spa-gym's choice).
ETO_STYLE = ChatStyle("Observation: ", ((WEBSHOP, "Observation:\n"),), has_example=True)
#: AgentGym: the env's text as it is.
AGENTGYM_STYLE = ChatStyle()


def default_assistant(step: Step) -> str:
    """The assistant turn of a step: its ``raw_output``, or ``"Action: <action>"`` without one."""
    return step.raw_output if step.raw_output is not None else f"Action: {step.action}"


def assistant_turn(step: Step, assistant: Assistant | None = None) -> str:
    """The assistant turn written for a step: ``assistant(step)`` (default :func:`default_assistant`),
    with a last ``Action: <action>`` line added when :func:`.inference.parse_action` would not read
    the step's action from it.

    Example:
        >>> assistant_turn(Step("go to desk 1", "", 0.0, True, "Thought: go.\\nAction: 'go to desk 1'."))
        "Thought: go.\\nAction: 'go to desk 1'.\\nAction: go to desk 1"
    """
    text = (assistant or default_assistant)(step)
    if parse_action(text) == step.action:
        return text
    return f"{text.rstrip()}\nAction: {step.action}" if text.strip() else f"Action: {step.action}"


def strip_observation(text: str) -> str:
    """An observation without its ``Observation:`` prefix (and the one space or newline after it).

    Example:
        >>> strip_observation("Observation:\\n[SEP] Back to Search"), strip_observation("Nothing happens.")
        ('[SEP] Back to Search', 'Nothing happens.')
    """
    if not text.startswith(OBSERVATION_MARK):
        return text
    rest = text[len(OBSERVATION_MARK):]
    return rest[1:] if rest[:1] in (" ", "\n") else rest


def read_turns(
    value: Any, where: str, role: str = "from", text: str = "value", roles: Mapping[str, str] | None = None
) -> list[Turn]:
    """The ``[(role, text)]`` of a JSON list of ``{role: ..., text: ...}`` turns; ``roles`` maps the
    format's role names to ``"human"`` / ``"gpt"`` (default: they are those). ``ValueError`` else.

    Example:
        >>> read_turns([{"role": "user", "content": "hi"}], "f:1", "role", "content", {"user": "human"})
        [('human', 'hi')]
    """
    roles = roles or {HUMAN: HUMAN, GPT: GPT}
    if not isinstance(value, list):
        raise ValueError(f"{where}: the conversation is a JSON list of turns, not {type(value).__name__}")
    turns = []
    for number, turn in enumerate(value):
        require(turn, {role: str, text: str}, f"{where}: turn {number}")
        if turn[role] not in roles:
            raise ValueError(f"{where}: turn {number} has {role} {turn[role]!r}, not one of {sorted(roles)}")
        turns.append((roles[turn[role]], turn[text]))
    return turns


def _acknowledged(turns: Sequence[Turn]) -> bool:
    return (len(turns) >= 2 and turns[0][0] == HUMAN and turns[1][0] == GPT
            and turns[1][1].strip().rstrip(".!").lower() == "ok")


def split_preamble(turns: Sequence[Turn], style: ChatStyle, preamble_turns: int | None = None) -> tuple[Preamble, int]:
    """The preamble of a chat and the index of the turn where the task starts (see the module doc)."""
    head = 2 if _acknowledged(turns) else 0
    if preamble_turns is not None:
        start = preamble_turns
        head = min(head, start)
    else:
        start = head
        if style.has_example:
            starts = [i for i in range(head, len(turns))
                      if turns[i][0] == HUMAN and not turns[i][1].startswith(OBSERVATION_MARK)]
            start = starts[-1] if starts else head
    return Preamble(tuple(turns[:head]), tuple(turns[head:start])), start


def from_turns(
    turns: Sequence[Turn],
    style: ChatStyle,
    where: str,
    *,
    task_id: str | int,
    final_reward: float,
    env_id: str | None = None,
    preamble_turns: int | None = None,
) -> Conversation:
    """The trajectory (and preamble) of a chat; ``ValueError`` starting with ``where`` if it is not one.

    ``task_id`` is the format's (mapped by :func:`.inference.spa_task_id`); the env id is ``env_id``
    or inferred from the task's first observation; rewards, ``won`` and ``grounded`` as
    :mod:`.inference` states.
    """
    preamble, start = split_preamble(turns, style, preamble_turns)
    if start >= len(turns):
        raise ValueError(f"{where}: the conversation has no turn after its {start} preamble turns")
    for number in range(start, len(turns)):
        expected = HUMAN if (number - start) % 2 == 0 else GPT
        if turns[number][0] != expected:
            raise ValueError(f"{where}: turn {number} is from {turns[number][0]!r}, expected {expected!r} "
                             f"(the task starts at turn {start})")
    initial = strip_observation(turns[start][1])
    env_id = env_id or infer_env_id(initial)
    if env_id is None:
        raise ValueError(f"{where}: cannot tell the env from the first observation {initial[:60]!r}; pass env_id")
    walk = Trajectory(env_id, spa_task_id(env_id, task_id), task_text(env_id, initial), initial)
    page = initial
    for number in range(start + 1, len(turns), 2):
        text = turns[number][1]
        action = parse_action(text)
        recorded = number + 1 < len(turns)
        answer = strip_observation(turns[number + 1][1]) if recorded else ""
        raw = None if text == f"Action: {action}" else text
        walk.add_step(action, answer, 0.0, infer_grounded(env_id, action, page, answer, recorded), raw)
        page = answer
    if walk.steps:
        walk.steps[-1].reward = float(final_reward)
    walk.final_reward = float(final_reward)
    walk.won = walk.final_reward == 1.0
    return Conversation(walk, preamble)


def as_conversation(item: Trajectory | Conversation, preamble: Preamble | None = None) -> tuple[Trajectory, Preamble]:
    """``(trajectory, preamble)`` of an item to write: ``preamble`` if given, else the
    conversation's own (a bare trajectory has none)."""
    if isinstance(item, Conversation):
        return item.trajectory, item.preamble if preamble is None else preamble
    return item, NO_PREAMBLE if preamble is None else preamble


def to_turns(
    walk: Trajectory,
    style: ChatStyle,
    *,
    preamble: Preamble = NO_PREAMBLE,
    assistant: Assistant | None = None,
    final_observation: bool = True,
) -> list[Turn]:
    """The chat of a trajectory: the preamble, the first observation, then per step the assistant
    turn and the prefixed answer (the last one only if ``final_observation`` and not empty)."""
    prefix = style.prefix(walk.env_id)
    turns = list(preamble.turns)
    turns.append((HUMAN, walk.initial_observation))
    for number, step in enumerate(walk.steps):
        turns.append((GPT, assistant_turn(step, assistant)))
        if number + 1 < len(walk.steps) or (final_observation and step.observation):
            turns.append((HUMAN, prefix + step.observation))
    return turns
