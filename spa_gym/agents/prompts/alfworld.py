"""The ALFWorld agent prompt: command templates, instructions, the example task, templated thoughts."""

from __future__ import annotations

from .style import REACT_ANSWER_FORMAT

ENV_ID = "SPA-ALFWorld-v0"

#: The task the ALFWorld in-context example is played on: ``TaskSuite("train").game(159)``, a
#: pick_and_place_simple task ("put a keychain in sidetable") that the expert solves in 5 steps
#: (go to a drawer, open it, take the keychain, go to a side table, put it there).
EXAMPLE_SPLIT = "train"
EXAMPLE_INDEX = 159

#: The command templates of ALFWorld's default (2.1.1) grammar, as the react instruction lists them.
COMMANDS: tuple[str, ...] = (
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

REACT_INSTRUCTION = """\
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

""" + REACT_ANSWER_FORMAT

COMPACT_INSTRUCTION = "You are an agent in a household. Reply with the next command only."

_RECEPTACLE_VERBS = {"close": "I close {0}."}
_TOOL_VERBS = {"heat": "I heat {0} with {1}.", "cool": "I cool {0} with {1}.", "clean": "I clean {0} with {1}.",
               "slice": "I slice {0} with {1}."}


def thought(action: str) -> str | None:
    """A short thought that states the intent of an ALFWorld command (``None`` for anything else).

    Example:
        >>> thought("go to countertop 1")
        'I need to go to countertop 1.'
        >>> thought("open fridge 1")
        'The fridge 1 is closed, so I open it.'
        >>> thought("heat egg 1 with microwave 1")
        'I heat egg 1 with microwave 1.'
    """
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
    return None
