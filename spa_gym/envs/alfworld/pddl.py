"""Loader for real ALFWorld game files (``game.tw-pddl``), as users get them from ALFWorld's download.

A ``game.tw-pddl`` is JSON with the PDDL domain, the text grammar (with the goal sentence filled
in), the PDDL problem, ``solvable`` and ``walkthrough``. The native engine needs only the problem's
objects and ``:init`` facts, the goal, the goal sentence and which data version (grammar) the file
embeds. Everything is lowercased, as Fast Downward lowercases it.

Example:
    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "game.tw-pddl").write_text("{}")
    2
    >>> try:
    ...     load_problem(folder / "game.tw-pddl")
    ... except ValueError as error:
    ...     print(str(error).split(": ", 1)[1])
    missing key 'pddl_problem'
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .problem import OBJECT_FLAGS, TASK_TYPES, Goal, Problem

GAME_FILE = "game.tw-pddl"
TRAJ_FILE = "traj_data.json"

_TOKEN = re.compile(r";[^\n]*|\(|\)|[^\s()]+")
_TASK_RULE = re.compile(r'"rhs":\s*"Your task is to: (.*?)\.?"')

SExpr = str | list["SExpr"]


def parse_sexpr(text: str) -> list[SExpr]:
    """Parse PDDL text into nested lists of lowercase tokens (comments dropped).

    Example:
        >>> parse_sexpr("(and (At ?a L1) ; comment\\n (not (opened R)))")
        [['and', ['at', '?a', 'l1'], ['not', ['opened', 'r']]]]
    """
    stack: list[list[SExpr]] = [[]]
    for token in _TOKEN.findall(text):
        if token[0] == ";":
            continue
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise ValueError("unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token.lower())
    if len(stack) != 1:
        raise ValueError("unbalanced '(': the text ends inside an expression")
    return stack[0]


def _strip_type(name: str) -> str:
    return name[:-4] if name.endswith("type") else name


def _section(define: list[SExpr], key: str) -> list[SExpr]:
    for part in define:
        if isinstance(part, list) and part and part[0] == key:
            return part[1:]
    raise ValueError(f"the PDDL problem has no {key} section")


def _typed_names(items: list[SExpr]) -> dict[str, str]:
    """``a b - t c - u`` -> {a: t, b: t, c: u}."""
    typed: dict[str, str] = {}
    pending: list[str] = []
    i = 0
    while i < len(items):
        item = items[i]
        if item == "-":
            kind = items[i + 1]
            for name in pending:
                typed[name] = str(kind)
            pending = []
            i += 2
            continue
        pending.append(str(item))
        i += 1
    return typed


def _atoms(formula: SExpr) -> list[list[str]]:
    """Every atom (a list of strings) inside a formula, connectives and quantifiers skipped."""
    if not isinstance(formula, list) or not formula:
        return []
    head = formula[0]
    if head in ("and", "or", "not", "imply"):
        return [atom for part in formula[1:] for atom in _atoms(part)]
    if head in ("exists", "forall"):
        return [atom for part in formula[2:] for atom in _atoms(part)]
    if all(isinstance(x, str) for x in formula):
        return [formula]  # type: ignore[list-item]
    return [atom for part in formula for atom in _atoms(part)]


def goal_from_formula(formula: SExpr) -> Goal:
    """Recognise which of ALFWorld's six goal shapes a PDDL goal formula is.

    Example:
        >>> goal_from_formula(parse_sexpr(
        ...     "(exists (?r - receptacle ?o - object) (and (objecttype ?o MugType)"
        ...     " (receptacletype ?r CounterTopType) (isclean ?o) (inreceptacle ?o ?r)))")[0])
        Goal(task_type='pick_clean_then_place_in_recep', object_type='mug', parent_type='countertop', toggle_type='')
    """
    atoms = _atoms(formula)
    predicates = {atom[0] for atom in atoms}
    object_types = {atom[1]: _strip_type(atom[2]) for atom in atoms if atom[0] == "objecttype" and len(atom) == 3}
    parent_types = [_strip_type(atom[2]) for atom in atoms if atom[0] == "receptacletype" and len(atom) == 3]
    toggled_vars = {atom[1] for atom in atoms if atom[0] in ("istoggled", "toggleable") and len(atom) == 2}
    toggle_types = [t for var, t in object_types.items() if var in toggled_vars]
    target_types = [t for var, t in object_types.items() if var not in toggled_vars]
    if not target_types:
        raise ValueError("the goal names no object type")
    if "istoggled" in predicates:
        if not toggle_types:
            raise ValueError("the look-in-light goal names no lamp type")
        return Goal("look_at_obj_in_light", target_types[0], toggle_type=toggle_types[0])
    if not parent_types:
        raise ValueError("the goal names no receptacle type")
    if "=" in predicates:
        task_type = "pick_two_obj_and_place"
    elif "isclean" in predicates:
        task_type = "pick_clean_then_place_in_recep"
    elif "ishot" in predicates:
        task_type = "pick_heat_then_place_in_recep"
    elif "iscool" in predicates:
        task_type = "pick_cool_then_place_in_recep"
    else:
        task_type = "pick_and_place_simple"
    return Goal(task_type, target_types[0], parent_type=parent_types[0])


def problem_from_pddl(text: str) -> Problem:
    """Build a :class:`Problem` from PDDL problem text (``initial_state.pddl``). Goal text and grammar
    are left default."""
    parsed = parse_sexpr(text)
    define = next((p for p in parsed if isinstance(p, list) and p and p[0] == "define"), None)
    if define is None:
        raise ValueError("no (define ...) in the PDDL problem")
    typed = _typed_names(_section(define, ":objects"))
    problem = Problem(locations=[name for name, kind in typed.items() if kind == "location"])
    receptacles = {name for name, kind in typed.items() if kind == "receptacle"}
    objects = {name for name, kind in typed.items() if kind == "object"}
    flags = set(OBJECT_FLAGS)
    for atom in _section(define, ":init"):
        if not isinstance(atom, list) or not atom or not all(isinstance(x, str) for x in atom):
            continue
        head, args = atom[0], atom[1:]
        if head == "receptacletype" and args[0] in receptacles:
            problem.receptacle_types[args[0]] = _strip_type(args[1])
        elif head == "objecttype" and args[0] in objects:
            problem.object_types[args[0]] = _strip_type(args[1])
        elif head == "receptacleatlocation":
            problem.receptacle_location.setdefault(args[0], args[1])
        elif head == "objectatlocation":
            problem.object_at_location.add((args[0], args[1]))
        elif head == "inreceptacle":
            problem.in_receptacle.add((args[0], args[1]))
        elif head == "inreceptacleobject":
            problem.in_receptacle_object.add((args[0], args[1]))
        elif head == "cancontain":
            problem.can_contain.add((_strip_type(args[0]), _strip_type(args[1])))
        elif head == "openable":
            problem.openable.add(args[0])
        elif head == "opened":
            problem.opened.add(args[0])
        elif head == "atlocation" and len(args) == 2:
            problem.agent_location = args[1]
        elif head in flags and len(args) == 1:
            problem.flags[head].add(args[0])
    problem.goal = goal_from_formula(_section(define, ":goal")[0])
    return problem


def detect_grammar(grammar_text: str) -> str:
    """The data version a game file's embedded grammar belongs to: ``"2.1.1"`` or ``"2.1.3"``.

    Example:
        >>> detect_grammar('template :: "move {o} to {r}";')
        '2.1.3'
    """
    if '"move {o} to {r}"' in grammar_text:
        return "2.1.3"
    if '"put {o} in/on {r}"' in grammar_text:
        return "2.1.1"
    raise ValueError("the grammar has neither 'put {o} in/on {r}' (2.1.1) nor 'move {o} to {r}' (2.1.3)")


def resolve_game_file(path: str | os.PathLike[str]) -> Path:
    """The ``game.tw-pddl`` of a file or trial-folder path; ``FileNotFoundError`` naming it when absent."""
    path = Path(path)
    if path.is_dir():
        path = path / GAME_FILE
    if not path.is_file():
        raise FileNotFoundError(f"ALFWorld game file not found: {path}")
    return path


def load_problem(path: str | os.PathLike[str]) -> Problem:
    """Read a ``game.tw-pddl`` file (or a folder holding one) into a :class:`Problem`.

    Raises ``FileNotFoundError`` or ``ValueError``; both name the file and say what is wrong.
    ``traj_data.json`` beside the file, when present, must agree on the task type.
    """
    path = resolve_game_file(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a valid game.tw-pddl (JSON expected): {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a valid game.tw-pddl: the top level must be a JSON object")
    for key in ("pddl_problem", "grammar"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"{path}: missing key {key!r}" if key not in data else f"{path}: {key!r} must be text")
    try:
        problem = problem_from_pddl(data["pddl_problem"])
        problem.grammar = detect_grammar(data["grammar"])
    except (ValueError, IndexError) as error:
        raise ValueError(f"{path}: {error}") from error
    match = _TASK_RULE.search(data["grammar"])
    if match is None:
        raise ValueError(f"{path}: the grammar has no 'Your task is to: ...' rule")
    problem.goal_text = match.group(1)
    walkthrough = data.get("walkthrough")
    problem.walkthrough = list(walkthrough) if isinstance(walkthrough, list) else None
    _check_traj_data(path.parent / TRAJ_FILE, problem)
    return problem


def _check_traj_data(traj_path: Path, problem: Problem) -> None:
    if not traj_path.is_file():
        return
    try:
        traj = json.loads(traj_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{traj_path}: not valid JSON: {error}") from error
    task_type = traj.get("task_type") if isinstance(traj, dict) else None
    assert problem.goal is not None
    if task_type in TASK_TYPES and task_type != problem.goal.task_type:
        raise ValueError(
            f"{traj_path}: task_type {task_type!r} disagrees with the PDDL goal ({problem.goal.task_type!r})"
        )


def find_game_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every playable game under ``root`` as ALFWorld selects them, in sorted order.

    Like ALFWorld: paths containing "movable" or "Sliced" are skipped, the task folder must start
    with one of the six task types, and ``game.tw-pddl`` must say ``"solvable": true``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"ALFWorld data folder not found: {root}")
    games = []
    for path in sorted(root.rglob(GAME_FILE)):
        text = str(path)
        if "movable" in text or "Sliced" in text:
            continue
        if not any(part.startswith(TASK_TYPES) for part in path.parts):
            continue
        try:
            solvable = json.loads(path.read_text(encoding="utf-8")).get("solvable", False)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            continue
        if solvable:
            games.append(path)
    return games
