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

New envs register a builder ``style -> EnvPrompt`` in :data:`PROMPTS` (or through
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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, get_args

PromptStyle = Literal["react", "compact"]

STYLES: tuple[str, ...] = get_args(PromptStyle)

#: Prefix of every user turn after the first of an episode, in the react style.
OBSERVATION_PREFIX = "Observation: "


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


# -- ALFWorld -----------------------------------------------------------------------------------

ALFWORLD_ID = "SPA-ALFWorld-v0"

#: The task the ALFWorld in-context example is played on: ``TaskSuite("train").game(159)``, a
#: pick_and_place_simple task ("put a keychain in sidetable") that the expert solves in 5 steps
#: (go to a drawer, open it, take the keychain, go to a side table, put it there).
ALFWORLD_EXAMPLE_SPLIT = "train"
ALFWORLD_EXAMPLE_INDEX = 159

#: The command templates of ALFWorld's default (2.1.1) grammar, as the react instruction lists them.
ALFWORLD_COMMANDS: tuple[str, ...] = (
    "go to {recep}",
    "open {recep}",
    "close {recep}",
    "take {obj} from {recep}",
    "put {obj} in/on {recep}",
    "examine {something}",
    "use {obj}",
    "heat {obj} with {recep}",
    "cool {obj} with {recep}",
    "clean {obj} with {recep}",
    "slice {obj} with {obj}",
    "inventory",
    "look",
)

ALFWORLD_REACT_INSTRUCTION = """\
You are an agent in a simulated household (ALFWorld, a text version of ALFRED). Each episode gives \
you one task, stated in the line "Your task is to: ...". You act by typing text commands; after \
each command you receive an observation that describes what happened.

Commands you can use ({recep} is a receptacle such as "drawer 2" or "countertop 1", {obj} an \
object such as "mug 1", always written with its number exactly as the observations name it):
- go to {recep}: walk to a receptacle and see what is on it (or in it, once it is open)
- open {recep} / close {recep}: open or close a receptacle such as a drawer, cabinet or fridge
- take {obj} from {recep}: pick up an object (you can carry only one object at a time)
- put {obj} in/on {recep}: place the object you carry (type "in/on" literally)
- examine {something}: look closely at a receptacle or at the object you carry
- use {obj}: switch on an appliance such as a desklamp or floorlamp
- heat {obj} with {recep}: heat the object you carry, e.g. with a microwave
- cool {obj} with {recep}: cool the object you carry, e.g. with a fridge
- clean {obj} with {recep}: clean the object you carry, e.g. with a sinkbasin
- slice {obj} with {obj}: slice an object with a sharp object you carry
- inventory: list what you carry
- look: describe your surroundings
Some games (ALFWorld data 2.1.3 and later) say "move {obj} to {recep}" instead of \
"put {obj} in/on {recep}" and also accept "help". A command that is not valid at the moment does \
nothing and is answered "Nothing happens.".

Answer every turn in exactly this format, with one command after "Action:" and nothing after it:
Thought: <your reasoning about what to do next>
Action: <one command>

The first episode below is a solved example; your own task follows it."""

ALFWORLD_COMPACT_INSTRUCTION = "You are an agent in a household. Reply with the next command only."

_RECEPTACLE_VERBS = {"close": "I close {0}."}
_TOOL_VERBS = {"heat": "I heat {0} with {1}.", "cool": "I cool {0} with {1}.", "clean": "I clean {0} with {1}.",
               "slice": "I slice {0} with {1}."}


def templated_thought(action: str) -> str:
    """A short thought that states the intent of ``action`` (for SFT targets from expert commands).

    ALFWorld commands get a sentence of their own; anything else gets ``"I will <action>."``.

    Example:
        >>> templated_thought("go to countertop 1")
        'I need to go to countertop 1.'
        >>> templated_thought("open fridge 1")
        'The fridge 1 is closed, so I open it.'
        >>> templated_thought("put mug 1 in/on countertop 1")
        'I put mug 1 in/on countertop 1.'
        >>> templated_thought("heat egg 1 with microwave 1")
        'I heat egg 1 with microwave 1.'
        >>> templated_thought("click[Buy Now]")
        'The product and its options match the instruction, so I buy it.'
    """
    action = " ".join(action.split())
    shop = _shop_thought(action)
    if shop:
        return shop
    verb, _, rest = action.partition(" ")
    if verb == "go" and rest.startswith("to "):
        return f"I need to go to {rest[3:]}."
    if verb == "open" and rest:
        return f"The {rest} is closed, so I open it."
    if verb in _RECEPTACLE_VERBS and rest:
        return _RECEPTACLE_VERBS[verb].format(rest)
    if verb in ("take", "put", "move") and rest:
        return f"I {action}."
    if verb in _TOOL_VERBS and " with " in rest:
        thing, _, tool = rest.partition(" with ")
        return _TOOL_VERBS[verb].format(thing, tool)
    if verb == "use" and rest:
        return f"I turn on {rest} to look in its light."
    if verb == "examine" and rest:
        return f"I examine {rest} to check it."
    if action == "inventory":
        return "I check the inventory."
    if action == "look":
        return "I look around."
    return f"I will {action}." if action else "I am not sure what to do next."


def _shop_thought(action: str) -> str | None:
    """Thoughts for WebShop's ``search[...]`` and ``click[...]`` commands (None for anything else)."""
    lowered = action.lower()
    if lowered.startswith("search[") and lowered.endswith("]"):
        return f"I search the store for {action[7:-1]}."
    if not (lowered.startswith("click[") and lowered.endswith("]")):
        return None
    target = action[6:-1]
    if target.lower() == "buy now":
        return "The product and its options match the instruction, so I buy it."
    if target.lower() in ("next >", "< prev", "back to search"):
        return f"I click {target} to look elsewhere."
    if re.fullmatch(r"b0[0-9a-z]{8}", target.lower()):
        return f"Product {target} looks like what the instruction asks for, so I open it."
    return f"I choose {target}."


@cache
def expert_example_episode(env_id: str, split: str, index: int) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An example episode: ``(initial observation, ((command, observation), ...))`` of the env's
    expert on task ``index`` of ``split`` (the env's default settings otherwise).

    Deterministic (the suites and the experts are), computed once per process. Raises
    ``RuntimeError`` if the expert does not win.
    """
    import gymnasium as gym

    env = gym.make(env_id, split=split).unwrapped  # importing spa_gym registered the ids
    observation, _ = env.reset(options={"task_index": index})
    steps: list[tuple[str, str]] = []
    won = False
    for _ in range(50):
        command = env.expert_action()
        if command is None:
            break
        answer, _, _, _, info = env.step(command)
        steps.append((command, answer))
        won = info["won"]
        if won:
            break
    env.close()
    if not won:  # pragma: no cover - guards a change of a suite or an expert
        raise RuntimeError(f"the {env_id} expert did not solve the example task of the prompt")
    return observation, tuple(steps)


def alfworld_example_episode() -> tuple[str, tuple[tuple[str, str], ...]]:
    """The ALFWorld example episode: the expert on ``TaskSuite(ALFWORLD_EXAMPLE_SPLIT).game(ALFWORLD_EXAMPLE_INDEX)``
    in the 2.1.1 grammar."""
    return expert_example_episode(ALFWORLD_ID, ALFWORLD_EXAMPLE_SPLIT, ALFWORLD_EXAMPLE_INDEX)


def _example_messages(initial: str, steps: Sequence[tuple[str, str]], style: PromptStyle) -> list[dict[str, str]]:
    """User/assistant turns of an expert episode (the final observation is left out)."""
    messages = [{"role": "user", "content": initial}]
    for number, (command, answer) in enumerate(steps):
        messages.append({"role": "assistant", "content": format_assistant(command, None, style)})
        if number + 1 < len(steps):
            messages.append({"role": "user", "content": format_observation(answer, style)})
    return messages


def expert_prompt_builder(env_id: str, react_instruction: str, compact_instruction: str, example_split: str,
                          example_index: int) -> Callable[[PromptStyle], EnvPrompt]:
    """A prompt builder for :data:`PROMPTS`: the react style gets the env expert's episode on task
    ``example_index`` of ``example_split`` as its in-context example; the compact style none."""

    def build(style: PromptStyle) -> EnvPrompt:
        if style == "compact":
            return EnvPrompt(compact_instruction, [], "compact", env_id)
        initial, steps = expert_example_episode(env_id, example_split, example_index)
        return EnvPrompt(react_instruction, _example_messages(initial, steps, "react"), "react", env_id)

    return build


# -- WebShop ------------------------------------------------------------------------------------

WEBSHOP_ID = "SPA-WebShop-v0"

#: The task of the WebShop example: goal 0 of the train split of the default generated catalog
#: (a raised garden bed in a given color and size; the expert searches, opens it, picks both
#: options and buys it in 5 steps).
WEBSHOP_EXAMPLE_SPLIT = "train"
WEBSHOP_EXAMPLE_INDEX = 0

WEBSHOP_REACT_INSTRUCTION = """\
You are shopping on WebShop, a simulated online store. Each episode gives you one instruction: the \
product to buy, the attributes and options it must have, and a price limit. Every observation is \
the page you are on, its parts separated by " [SEP] ".

Commands you can use (one per turn):
- search[keywords]: search the store (possible whenever the page shows a search box, as the first \
page does)
- click[button]: click a button shown on the page: a product id from the results, an option value \
on a product page, "Buy Now", "Next >", "< Prev", "Back to Search", "Description", "Features", \
"Reviews" or "Attributes"
A command that the page does not offer changes nothing. The episode ends when you click "Buy Now"; \
the purchase is scored by how well it matches the instruction.

Answer every turn in exactly this format, with one command after "Action:" and nothing after it:
Thought: <your reasoning about what to do next>
Action: <one command>

The first episode below is a solved example; your own task follows it."""

WEBSHOP_COMPACT_INSTRUCTION = "You shop for the product in the instruction. Reply with search[...] or click[...] only."


# -- VirtualHome --------------------------------------------------------------------------------

VIRTUALHOME_ID = "SPA-VirtualHome-v0"

#: The task of the VirtualHome example: train task 2 ("Cook some food": take the steak, put it in
#: the microwave, close it and switch it on; the expert needs 7 commands).
VIRTUALHOME_EXAMPLE_SPLIT = "train"
VIRTUALHOME_EXAMPLE_INDEX = 2

VIRTUALHOME_REACT_INSTRUCTION = """\
You are a household robot in VirtualHome, a simulated home. Each episode gives you one task, \
stated as "The task is <title>(<description>)." You act with one command per turn; after a \
command that works you see the states of the objects close to you, their relations and what you \
hold; a command that cannot be done is answered "Nothing happens.".

Commands you can use ({obj} and {recep} are object names such as "tv", "kitchen counter" or \
"food steak"; rooms are "bathroom", "bedroom", "dining room" (the kitchen) and "home office" \
(the living room)):
- walk to {obj}, run to {obj}, find {obj}, turn to {obj}, look at {obj}, point at {obj}
- grab {obj}, drop {obj}, put {obj} on {recep}, put {obj} in {recep}, put back {obj}, \
pour {obj} into {recep}
- open {obj}, close {obj}, switch on {obj}, switch off {obj}, plug in {obj}, plug out {obj}
- sit on {obj}, lie on {obj}, stand up, sleep, wake up
- watch {obj}, read {obj}, type on {obj}, drink {obj}, eat {obj}, wash {obj}, rinse {obj}, \
scrub {obj}, wipe {obj}, squeeze {obj}, cut {obj}, touch {obj}, push {obj}, pull {obj}, move {obj}, \
greet {obj}, put on {obj} (clothes), take off {obj}

Answer every turn in exactly this format, with one command after "Action:" and nothing after it:
Thought: <your reasoning about what to do next>
Action: <one command>

The first episode below is a solved example; your own task follows it."""

VIRTUALHOME_COMPACT_INSTRUCTION = "You are a household robot. Reply with the next command only."


# -- registry -----------------------------------------------------------------------------------

#: Prompt builders by env id: ``builder(style) -> EnvPrompt``. Envs add theirs here.
PROMPTS: dict[str, Callable[[PromptStyle], EnvPrompt]] = {
    ALFWORLD_ID: expert_prompt_builder(ALFWORLD_ID, ALFWORLD_REACT_INSTRUCTION, ALFWORLD_COMPACT_INSTRUCTION,
                                       ALFWORLD_EXAMPLE_SPLIT, ALFWORLD_EXAMPLE_INDEX),
    WEBSHOP_ID: expert_prompt_builder(WEBSHOP_ID, WEBSHOP_REACT_INSTRUCTION, WEBSHOP_COMPACT_INSTRUCTION,
                                      WEBSHOP_EXAMPLE_SPLIT, WEBSHOP_EXAMPLE_INDEX),
    VIRTUALHOME_ID: expert_prompt_builder(VIRTUALHOME_ID, VIRTUALHOME_REACT_INSTRUCTION, VIRTUALHOME_COMPACT_INSTRUCTION,
                                          VIRTUALHOME_EXAMPLE_SPLIT, VIRTUALHOME_EXAMPLE_INDEX),
}


def register_prompt(env_id: str, builder: Callable[[PromptStyle], EnvPrompt]) -> None:
    """Register (or replace) the prompt builder of ``env_id``."""
    PROMPTS[env_id] = builder


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {STYLES}")


def get_prompt(env_id: str, style: PromptStyle = "react") -> EnvPrompt:
    """The chat prompt of ``env_id`` in ``style``. Each call returns a fresh ``example`` list.

    Raises ``ValueError`` naming the known env ids for an env without a registered prompt, and
    naming the styles for an unknown style.
    """
    _check_style(style)
    if env_id not in PROMPTS:
        raise ValueError(f"no agent prompt for env id {env_id!r}; prompts exist for {sorted(PROMPTS)}")
    return PROMPTS[env_id](style)


# -- conversation -------------------------------------------------------------------------------

def format_observation(observation: str, style: PromptStyle = "react") -> str:
    """A user turn for an env answer after the first observation: ``"Observation: ..."`` (react)
    or the observation itself (compact)."""
    _check_style(style)
    return OBSERVATION_PREFIX + observation if style == "react" else observation


def format_assistant(action: str, thought: str | None = None, style: PromptStyle = "react") -> str:
    """An assistant turn for ``action``: ``"Thought: {thought}\\nAction: {action}"`` (react; the thought
    defaults to :func:`templated_thought`) or the bare action (compact)."""
    _check_style(style)
    if style == "compact":
        return action
    if thought is None:
        thought = templated_thought(action)
    return f"Thought: {thought}\nAction: {action}"


def build_messages(
    prompt: EnvPrompt, task_observation: str, history: Sequence[tuple[str, str]] = ()
) -> list[dict[str, str]]:
    """The whole chat for the next model turn: system instruction, the in-context example (if any),
    the task's initial observation, then per ``(assistant_text, observation)`` of ``history`` the
    agent's raw text and the env's answer (formatted by :func:`format_observation`).

    Pass ``add_generation_prompt=True`` to the tokenizer's chat template to generate the next turn.
    """
    messages = [{"role": "system", "content": prompt.instruction}]
    messages.extend(dict(turn) for turn in prompt.example)
    messages.append({"role": "user", "content": task_observation})
    for assistant_text, observation in history:
        messages.append({"role": "assistant", "content": assistant_text})
        messages.append({"role": "user", "content": format_observation(observation, prompt.style)})
    return messages


# -- parsing ------------------------------------------------------------------------------------

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


__all__ = [
    "ALFWORLD_COMMANDS",
    "ALFWORLD_EXAMPLE_INDEX",
    "ALFWORLD_EXAMPLE_SPLIT",
    "VIRTUALHOME_EXAMPLE_INDEX",
    "VIRTUALHOME_EXAMPLE_SPLIT",
    "WEBSHOP_EXAMPLE_INDEX",
    "WEBSHOP_EXAMPLE_SPLIT",
    "OBSERVATION_PREFIX",
    "PROMPTS",
    "EnvPrompt",
    "PromptStyle",
    "alfworld_example_episode",
    "expert_example_episode",
    "expert_prompt_builder",
    "build_messages",
    "format_assistant",
    "format_observation",
    "get_prompt",
    "parse_action",
    "parse_thought",
    "register_prompt",
    "templated_thought",
]
