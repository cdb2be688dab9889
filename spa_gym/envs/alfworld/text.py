"""ALFWorld's text, string by string, for both data versions (2.1.1 and 2.1.3).

These are the strings the real TextWorld engine renders from ALFWorld's grammar
(``alfworld/data/alfred.twl2``); the tests replay recordings of that engine against them.
"""

from __future__ import annotations

from collections.abc import Sequence

WELCOME = "-= Welcome to TextWorld, ALFRED! =-"
NOTHING_HAPPENS = "Nothing happens."
MIDDLE_OF_ROOM = "You are in the middle of a room. Looking quickly around you, you see {}."

HELP_TEXT = (
    "Available commands:\n"
    "  look:                             look around your current location\n"
    "  inventory:                        check your current inventory\n"
    "  go to (receptacle):               move to a receptacle\n"
    "  open (receptacle):                open a receptacle\n"
    "  close (receptacle):               close a receptacle\n"
    "  take (object) from (receptacle):  take an object from a receptacle\n"
    "  move (object) to (receptacle):  place an object in or on a receptacle\n"
    "  examine (something):              examine a receptacle or an object\n"
    "  use (object):                     use an object\n"
    "  heat (object) with (receptacle):  heat an object using a receptacle\n"
    "  clean (object) with (receptacle): clean an object using a receptacle\n"
    "  cool (object) with (receptacle):  cool an object using a receptacle\n"
    "  slice (object) with (object):     slice an object using a sharp object\n"
)


def join_list(items: Sequence[str]) -> str:
    """TextWorld's list: ``nothing``, ``x``, or ``x, y, and z`` (the comma before "and" even for two).

    Example:
        >>> join_list([])
        'nothing'
        >>> join_list(["a lettuce 1", "a mug 2"])
        'a lettuce 1, and a mug 2'
    """
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + ", and " + items[-1]


def a_list(names: Sequence[str]) -> str:
    """Names with ALFWorld's article, which is always "a" ("a apple 1").

    Example:
        >>> a_list(["apple 1", "egg 2"])
        'a apple 1, and a egg 2'
    """
    return join_list(["a " + name for name in names])


def put_command(grammar: str, obj: str, recep: str) -> str:
    """The put command of a data version: ``put O in/on R`` (2.1.1) or ``move O to R`` (2.1.3)."""
    return f"put {obj} in/on {recep}" if grammar == "2.1.1" else f"move {obj} to {recep}"


def put_feedback(grammar: str, obj: str, recep: str) -> str:
    """The put feedback of a data version."""
    if grammar == "2.1.1":
        return f"You put the {obj} in/on the {recep}."
    return f"You move the {obj} to the {recep}."


def task_line(goal_text: str) -> str:
    """The task line of the intro: ``Your task is to: <goal>.``"""
    return f"Your task is to: {goal_text}."


def describe_held(name: str, *, receptacle_object: bool, contents: Sequence[str], clean: bool, hot: bool,
                  cool: bool, sliced: bool, toggleable: bool, toggled: bool, sliceable: bool) -> str:
    """The answer to ``examine O`` for a held object, by the grammar's first matching rule."""
    if receptacle_object:
        return f"This is a normal {name}. In it, you see {a_list(contents)}."
    if sliced:
        if clean and hot:
            return f"This is a hot and clean sliced {name}."
        if clean and cool:
            return f"This is a cool and clean sliced {name}."
        if clean:
            return f"This is a clean sliced {name}."
        if hot:
            return f"This is a hot sliced {name}."
        if cool:
            return f"This is a cool sliced {name}."
    if clean and hot:
        return f"This is a hot and clean {name}."
    if clean and cool:
        return f"This is a cool and clean {name}."
    if hot:
        return f"This is a hot {name}."
    if clean:
        return f"This is a clean {name}."
    if cool:
        return f"This is a cold {name}."
    if toggleable and toggled:
        return f"This {name} is on."
    # "This X is off." needs an explicit not_istoggled fact, which ALFWorld never creates.
    if sliceable and sliced:
        return f"This is a sliced {name}."
    return f"There's nothing special about {name}."
