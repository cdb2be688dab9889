"""VirtualHome script lines: parse ``[PUTBACK] <mug> (5) <table> (7)`` and format them back.

Parsing follows VirtualHome's ``parse_script_line`` exactly: the stripped line must start with
``[WORD]`` (any case; the name is upper-cased and must be an action), then every
``<name> (id)`` pair is taken in order (names are lower-cased with spaces as ``_``; ids go through
``int``), and the count must match the action. Its regular expressions are re-implemented in
linear time, so megabyte-long garbage cannot stall a step. Dataset program files write ids as
``(logical.graph_id)``, e.g. ``(1.319)``; ``dataset_ids=True`` reads the graph id from them.

Example:
    >>> line = parse_script_line("[PutBack] <Mug> (5) <kitchen table> (7)")
    >>> line
    ScriptLine(action='PUTBACK', args=(('mug', 5), ('kitchen_table', 7)))
    >>> str(line), format_script_line(line, index=0)
    ('[PUTBACK] <mug> (5) <kitchen_table> (7)', '[PUTBACK] <mug> (5) <kitchen_table> (7) [0]')
    >>> parse_script_line("[WALK] <home_office> (1.319)", dataset_ids=True)
    ScriptLine(action='WALK', args=(('home_office', 319),))
    >>> parse_script_line("[FLY] <kite> (1)")
    Traceback (most recent call last):
    ...
    spa_gym.envs.virtualhome.script.ScriptError: Unknown action "FLY" in script line '[FLY] <kite> (1)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Every member of VirtualHome's ``Action`` enum -> its number of arguments.
ACTIONS: dict[str, int] = {
    "CLOSE": 1, "DRINK": 1, "FIND": 1, "WALK": 1, "GRAB": 1, "LOOKAT": 1, "LOOKAT_SHORT": 1, "LOOKAT_LONG": 1,
    "OPEN": 1, "POINTAT": 1, "PUTBACK": 2, "PUTIN": 2, "PUTOBJBACK": 1, "RUN": 1, "SIT": 1, "STANDUP": 0,
    "SWITCHOFF": 1, "SWITCHON": 1, "TOUCH": 1, "TURNTO": 1, "WATCH": 1, "WIPE": 1, "PUTON": 1, "PUTOFF": 1,
    "GREET": 1, "DROP": 1, "READ": 1, "LIE": 1, "POUR": 2, "TYPE": 1, "PUSH": 1, "PULL": 1, "MOVE": 1,
    "WASH": 1, "RINSE": 1, "SCRUB": 1, "SQUEEZE": 1, "PLUGIN": 1, "PLUGOUT": 1, "CUT": 1, "EAT": 1,
    "SLEEP": 0, "WAKEUP": 0, "RELEASE": 1,
}
#: Enum aliases: the name parses, the line carries the canonical action.
ACTION_ALIASES: dict[str, str] = {"LOOKAT_MEDIUM": "LOOKAT"}

_ACTION_RE = re.compile(r"^\[(\w+)\]")
_FORMAT_HINT = "expected '[ACTION] <name> (id)' with as many '<name> (id)' pairs as the action takes"


class ScriptError(ValueError):
    """A script line VirtualHome cannot parse.

    ``simulator_exception`` is the exception VirtualHome's parser raises for it
    (``"ScriptParseException"`` or ``"ValueError"``) and ``simulator_message`` its message.
    """

    def __init__(self, simulator_message: str, text: str, *, simulator_exception: str = "ScriptParseException",
                 hint: str = "") -> None:
        shown = text if len(text) <= 80 else text[:77] + "..."
        super().__init__(f"{simulator_message} in script line {shown!r}" + (f"; {hint}" if hint else ""))
        self.simulator_message = simulator_message
        self.simulator_exception = simulator_exception


@dataclass(frozen=True, slots=True)
class ScriptLine:
    """One action with its ``(class_name, id)`` arguments; the class name is informative only
    (the simulator selects objects by id).

    >>> ScriptLine("GRAB", (("cup", 3),))
    ScriptLine(action='GRAB', args=(('cup', 3),))
    >>> ScriptLine("GRAB", ())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spa_gym.envs.virtualhome.script.ScriptError: Wrong number of parameters for "GRAB". Got 0, expected 1 in ...
    """

    action: str
    args: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.action, str) or self.action not in ACTIONS:
            raise ScriptError(f"Unknown action {self.action!r}; expected one of {', '.join(ACTIONS)}",
                              f"[{self.action}]")
        if not isinstance(self.args, tuple) or not all(
            isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[0], str)
            and isinstance(arg[1], int) and not isinstance(arg[1], bool) for arg in self.args
        ):
            raise ScriptError(f"arguments must be a tuple of (class_name: str, id: int) pairs, got {self.args!r}",
                              f"[{self.action}]")
        expected = ACTIONS[self.action]
        if len(self.args) != expected:
            raise ScriptError(f'Wrong number of parameters for "{self.action}". Got {len(self.args)}, '
                              f"expected {expected}", format_script_line(self))

    @property
    def ids(self) -> tuple[int, ...]:
        """The argument ids in order."""
        return tuple(node_id for _, node_id in self.args)

    def __str__(self) -> str:
        return format_script_line(self)


def script_object_name(name: str) -> str:
    """VirtualHome's normalisation of an object name: lower case, spaces as ``_``."""
    return name.lower().replace(" ", "_")


def format_script_line(line: ScriptLine, index: int | None = None) -> str:
    """``[ACTION] <name> (id) ...``, with `` [index]`` appended as VirtualHome prints it in messages."""
    text = f"[{line.action}]" + "".join(f" <{script_object_name(name)}> ({node_id})" for name, node_id in line.args)
    return text if index is None else f"{text} [{index}]"


def parse_script_line(text: str, *, dataset_ids: bool = False) -> ScriptLine:
    """Parse one script line as VirtualHome does; raise :class:`ScriptError` where it would raise.

    With ``dataset_ids`` an id written ``(a.b)`` (the dataset's ``logical.graph_id``) gives ``b``.
    """
    if not isinstance(text, str):
        raise TypeError(f"a script line must be a str, got {type(text).__name__}")
    stripped = text.strip()
    match = _ACTION_RE.search(stripped)
    if match is None:
        raise ScriptError("Cannot parse action", text, hint=_FORMAT_HINT)
    name = match.group(1).upper()
    if name not in ACTIONS and name not in ACTION_ALIASES:
        raise ScriptError(f'Unknown action "{name}"', text)
    action = ACTION_ALIASES.get(name, name)
    args: list[tuple[str, int]] = []
    for raw_name, raw_id in _find_params(stripped, match.end(1)):
        if dataset_ids and "." in raw_id:
            raw_id = raw_id.split(".", 1)[1]
        try:
            node_id = int(raw_id)
        except ValueError as error:
            raise ScriptError(str(error), text, simulator_exception="ValueError") from None
        args.append((script_object_name(raw_name), node_id))
    if len(args) != ACTIONS[action]:
        raise ScriptError(f'Wrong number of parameters for "{action}". Got {len(args)}, expected {ACTIONS[action]}',
                          text, hint=_FORMAT_HINT)
    return ScriptLine(action, tuple(args))


class _Finder:
    """Monotone ``str.find`` for one character: queries at non-decreasing starts cost O(n) in total."""

    __slots__ = ("_char", "_found", "_start", "_text")

    def __init__(self, text: str, char: str) -> None:
        self._text, self._char, self._start, self._found = text, char, -1, -1

    def at_or_after(self, start: int) -> int:
        if self._start >= 0 and (self._found == -1 or self._found >= start) and self._start <= start:
            return self._found
        self._start, self._found = start, self._text.find(self._char, start)
        return self._found


def _find_params(text: str, start: int) -> list[tuple[str, str]]:
    r"""All ``(name, id)`` groups that repeated ``re.search(r"\<(.+?)\>\s*\((.+?)\)", ...)`` finds.

    For a ``<`` at ``i`` the lazy name ends at the first ``>`` at ``j >= i + 2`` (no newline in between)
    that is followed by optional whitespace, ``(`` at ``q`` and a ``)`` at ``k >= q + 2`` with no
    newline in between; the leftmost ``i`` with such a ``j`` wins and the next search starts at ``k``.
    """
    closers, newlines = _Finder(text, ")"), _Finder(text, "\n")
    good: dict[int, int] = {}  # position of '>' -> position of the ')' that ends the id, or -1
    size = len(text)

    def end_of_id(j: int) -> int:
        if j not in good:
            q = j + 1
            while q < size and text[q].isspace():
                q += 1
            k = -1
            if q < size and text[q] == "(":
                k = closers.at_or_after(q + 2)
                newline = newlines.at_or_after(q + 1)
                if newline != -1 and newline < k:
                    k = -1
            good[j] = k
        return good[j]

    found: list[tuple[str, str]] = []
    pos = start
    j = -1  # last '>' examined; the first good '>' at or after a bound only moves forward
    while True:
        i = text.find("<", pos)
        if i == -1:
            return found
        bound = i + 2
        if j < bound:
            j = text.find(">", bound)
        while j != -1 and end_of_id(j) == -1:
            j = text.find(">", j + 1)
        if j == -1:
            return found
        line_end = text.find("\n", i + 1, j)
        if line_end != -1:  # the name may not cross a newline: retry from the next line
            pos = line_end + 1
            continue
        k = good[j]
        found.append((text[i + 1:j], text[j + 1:k].lstrip()[1:]))
        pos = k
