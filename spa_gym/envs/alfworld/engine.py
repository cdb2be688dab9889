"""The native ALFWorld engine: ALFWorld's PDDL domain as plain Python rules over a :class:`Game`.

One :class:`Episode` holds the dynamic state of one play-through. Each state has a table of
admissible commands (command text -> action); a command runs only if it equals one of them
after ``str.strip()``, otherwise the answer is "Nothing happens." and nothing changes, exactly as
in TextWorld. Effects follow the domain (``alfred.pddl``), including the quirks the real engine
shows: appliances work while closed and the object stays in hand, ``use`` always says "turn on",
``go to`` is not admissible for receptacles at the current point, objects keep
``objectAtLocation`` facts for other points, and "Next to it" lists objects taken out of a
receptacle at this point (TextWorld's explicit negative facts).

Example:
    >>> from spa_gym.envs.alfworld.suite import TaskSuite
    >>> episode = Episode(TaskSuite("valid_seen").game(0))
    >>> episode.intro().startswith("-= Welcome to TextWorld, ALFRED! =-")
    True
    >>> episode.step("fly to the moon")
    ('Nothing happens.', False)
"""

from __future__ import annotations

from .actions import (
    CLEAN,
    CLOSE,
    COOL,
    EXAMINE_O,
    EXAMINE_R,
    GOTO,
    HEAT,
    HELP,
    INVENTORY,
    LOOK,
    OPEN,
    PUT,
    READ_ONLY,
    SLICE,
    TAKE,
    USE,
)
from .game import DYNAMIC_FLAGS, Game
from .text import (
    HELP_TEXT,
    MIDDLE_OF_ROOM,
    NOTHING_HAPPENS,
    WELCOME,
    a_list,
    describe_held,
    join_list,
    put_command,
    put_feedback,
    task_line,
)

_CAPABILITY = {"isclean": "cleanable", "ishot": "heatable", "iscool": "coolable"}
_APPLIANCE = {HEAT: ("microwave", "ishot", "iscool", "heat"), COOL: ("fridge", "iscool", "ishot", "cool")}


class Episode:
    """The dynamic state of one play-through of a :class:`Game`, and the rules that change it."""

    def __init__(self, game: Game):
        self.game = game
        init = game.initial
        n_objects = len(game.object_ids)
        self.agent_location = init.agent_location
        self.held = -1
        self.opened = list(init.opened)
        self.contents: list[set[int]] = [set() for _ in game.receptacle_ids]  # receptacle -> objects
        self.containers: list[set[int]] = [set() for _ in range(n_objects)]  # object -> receptacles
        for o, r in init.in_receptacle:
            self.contents[r].add(o)
            self.containers[o].add(r)
        self.at_location: list[set[int]] = [set() for _ in game.location_ids]  # location -> objects
        self.locations_of: list[set[int]] = [set() for _ in range(n_objects)]  # object -> locations
        for o, loc in init.object_at_location:
            self.at_location[loc].add(o)
            self.locations_of[o].add(loc)
        self.flags = {flag: set(members) for flag, members in init.flags.items()}
        self.taken_out: set[tuple[int, int]] = set()  # explicit not_inreceptacle(o, r) facts
        self.won = False
        self._table: dict[str, tuple] | None = None
        self._state: tuple | None = None  # world_state(), until the state changes
        self._things: tuple | None = None  # its part that "go to" keeps

    def clone(self) -> Episode:
        """An independent copy of this episode's state (the game is shared)."""
        twin = object.__new__(Episode)
        twin.game = self.game
        twin.agent_location = self.agent_location
        twin.held = self.held
        twin.opened = list(self.opened)
        twin.contents = [set(c) for c in self.contents]
        twin.containers = [set(c) for c in self.containers]
        twin.at_location = [set(c) for c in self.at_location]
        twin.locations_of = [set(c) for c in self.locations_of]
        twin.flags = {flag: set(members) for flag, members in self.flags.items()}
        twin.taken_out = set(self.taken_out)
        twin.won = self.won
        twin._table = self._table
        twin._state = self._state
        twin._things = self._things
        return twin

    def __deepcopy__(self, memo: dict) -> Episode:
        return self.clone()  # the game is immutable and shared

    def world_state(self) -> tuple:
        """Every fact that rules, text or goal read, canonically: ``(agent location, won, things)``
        where ``things`` is the object in hand, which receptacles are open, what each holds, where
        each object is, the dynamic flags and the explicit "taken out" facts (they show in "look").
        Computed once per state; ``things`` survives ``go to`` (the same object)."""
        if self._state is None:
            if self._things is None:
                self._things = (
                    self.held,
                    tuple(self.opened),
                    tuple(map(tuple, map(sorted, self.contents))),
                    tuple(map(tuple, map(sorted, self.locations_of))),
                    tuple(tuple(sorted(self.flags[flag])) for flag in DYNAMIC_FLAGS),
                    tuple(sorted(self.taken_out)),
                )
            self._state = (self.agent_location, self.won, self._things)
        return self._state

    # -- text -----------------------------------------------------------------------------------
    def intro(self) -> str:
        """The text ``reset`` shows: the banner, every receptacle in the room, and the task."""
        room = MIDDLE_OF_ROOM.format(a_list(self.game.receptacle_names))
        return f"{WELCOME}\n\n{room}\n\n{task_line(self.game.goal_text)}"

    def _names(self, objects) -> list[str]:
        names = self.game.object_names
        return [names[o] for o in sorted(objects)]

    def _examine_receptacle(self, r: int) -> str:
        name = self.game.receptacle_names[r]
        if self.game.openable[r]:
            if self.opened[r]:
                return f"The {name} is open. In it, you see {a_list(self._names(self.contents[r]))}."
            return f"The {name} is closed."
        return f"On the {name}, you see {a_list(self._names(self.contents[r]))}."

    def _look(self) -> str:
        here = self.game.receptacles_at[self.agent_location]
        if not here:
            return MIDDLE_OF_ROOM.format("nothing")
        facing = join_list([self.game.receptacle_names[r] for r in here])
        here_set = set(here)
        beside = [
            o
            for o in self.at_location[self.agent_location]
            if any((o, r) in self.taken_out for r in here_set)
        ]
        return f"You are facing the {facing}. Next to it, you see {a_list(self._names(beside))}."

    def _examine_object(self, o: int) -> str:
        g = self.game
        flags = self.flags
        return describe_held(
            g.object_names[o],
            receptacle_object=o in g.object_flags["isreceptacleobject"],
            contents=[g.object_names[i] for i in g.contents_of_object[o]],
            clean=o in flags["isclean"],
            hot=o in flags["ishot"],
            cool=o in flags["iscool"],
            sliced=o in flags["issliced"],
            toggleable=o in g.object_flags["toggleable"],
            toggled=o in flags["istoggled"],
            sliceable=o in g.object_flags["sliceable"],
        )

    # -- admissible commands --------------------------------------------------------------------
    def admissible_table(self) -> dict[str, tuple]:
        """Command text -> action, for the current state (computed once per state)."""
        if self._table is None:
            self._table = self._build_table()
        return self._table

    def admissible_commands(self) -> list[str]:
        """The admissible commands, sorted as TextWorld sorts them."""
        return sorted(self.admissible_table())

    def _build_table(self) -> dict[str, tuple]:
        g = self.game
        rnames, onames, rtypes, otypes = g.receptacle_names, g.object_names, g.receptacle_types, g.object_types
        loc = self.agent_location
        here = g.receptacles_at[loc]
        table = dict(g.goto_table)
        for r in here:
            del table["go to " + rnames[r]]
        held = self.held
        pickupable = g.object_flags["pickupable"]
        toggleable = g.object_flags["toggleable"]
        for r in here:
            rname = rnames[r]
            table["examine " + rname] = (EXAMINE_R, r)
            accessible = True
            if g.openable[r]:
                if self.opened[r]:
                    table["close " + rname] = (CLOSE, r)
                else:
                    table["open " + rname] = (OPEN, r)
                    accessible = False
            for o in self.contents[r]:
                if o in toggleable:
                    table.setdefault("use " + onames[o], (USE, o))
                if held < 0 and accessible and o in pickupable:
                    table[f"take {onames[o]} from {rname}"] = (TAKE, o, r)
            if held >= 0:
                if accessible and (rtypes[r], otypes[held]) in g.can_contain:
                    table[put_command(g.grammar, onames[held], rname)] = (PUT, held, r)
                rtype = rtypes[r]
                if rtype == "microwave" and held in g.object_flags["heatable"]:
                    table[f"heat {onames[held]} with {rname}"] = (HEAT, held, r)
                elif rtype == "fridge" and held in g.object_flags["coolable"]:
                    table[f"cool {onames[held]} with {rname}"] = (COOL, held, r)
                elif rtype == "sinkbasin" and held in g.object_flags["cleanable"]:
                    table[f"clean {onames[held]} with {rname}"] = (CLEAN, held, r)
        if held >= 0:
            table["examine " + onames[held]] = (EXAMINE_O, held)
            if otypes[held] in ("knife", "butterknife"):
                sliceable = g.object_flags["sliceable"]
                for o in self.at_location[loc]:
                    if o in sliceable:
                        table[f"slice {onames[o]} with {onames[held]}"] = (SLICE, o, held)
        table["inventory"] = (INVENTORY,)
        table["look"] = (LOOK,)
        if g.grammar != "2.1.1":
            table["help"] = (HELP,)
        return table

    # -- stepping -------------------------------------------------------------------------------
    def step(self, command: str) -> tuple[str, bool]:
        """Run one command. Returns ``(observation, grounded)``; ``self.won`` tells whether the goal holds."""
        action = self.admissible_table().get(command.strip())
        if action is None:
            return NOTHING_HAPPENS, False
        feedback = self._apply(action)
        won = self.goal_satisfied()
        if won != self.won:
            self.won, self._state = won, None
        return feedback, True

    def _apply(self, action: tuple) -> str:
        kind = action[0]
        g = self.game
        rnames, onames = g.receptacle_names, g.object_names
        if kind in READ_ONLY:
            return self._read_only(action)
        self._table = self._state = None
        if kind == GOTO:
            r = action[1]
            self.agent_location = g.receptacle_location[r]
            place = g.location_names[self.agent_location] if g.grammar == "2.1.1" else rnames[r]
            return f"You arrive at {place}. {self._examine_receptacle(r)}"
        self._things = None
        if kind == OPEN:
            r = action[1]
            self.opened[r] = True
            return f"You open the {rnames[r]}. {self._examine_receptacle(r)}"
        if kind == CLOSE:
            r = action[1]
            self.opened[r] = False
            return f"You close the {rnames[r]}."
        if kind == TAKE:
            _, o, r = action
            self.contents[r].discard(o)
            self.containers[o].discard(r)
            self.taken_out.add((o, r))
            loc = self.agent_location
            self.at_location[loc].discard(o)
            self.locations_of[o].discard(loc)
            self.held = o
            return f"You pick up the {onames[o]} from the {rnames[r]}."
        if kind == PUT:
            _, o, r = action
            self.contents[r].add(o)
            self.containers[o].add(r)
            self.taken_out.discard((o, r))
            loc = self.agent_location
            self.at_location[loc].add(o)
            self.locations_of[o].add(loc)
            self.held = -1
            return put_feedback(g.grammar, onames[o], rnames[r])
        if kind in (HEAT, COOL):
            _, o, r = action
            _, gained, lost, verb = _APPLIANCE[kind]
            self.flags[gained].add(o)
            self.flags[lost].discard(o)
            return f"You {verb} the {onames[o]} using the {rnames[r]}."
        if kind == CLEAN:
            _, o, r = action
            self.flags["isclean"].add(o)
            return f"You clean the {onames[o]} using the {rnames[r]}."
        if kind == USE:
            o = action[1]
            on = self.flags["ison"]
            if o in on:
                on.discard(o)
            else:
                on.add(o)
            self.flags["istoggled"].add(o)
            return f"You turn on the {onames[o]}."
        if kind == SLICE:
            _, co, ko = action
            self.flags["issliced"].add(co)
            return f"You sliced the {onames[co]} with the {onames[ko]}."
        raise AssertionError(f"unknown action kind {kind}")

    def _read_only(self, action: tuple) -> str:
        kind = action[0]
        if kind == EXAMINE_R:
            return self._examine_receptacle(action[1])
        if kind == EXAMINE_O:
            return self._examine_object(action[1])
        if kind == INVENTORY:
            if self.held < 0:
                return "You are not carrying anything."
            return f"You are carrying: a {self.game.object_names[self.held]}."
        if kind == LOOK:
            return self._look()
        return HELP_TEXT

    # -- goal -----------------------------------------------------------------------------------
    def goal_satisfied(self) -> bool:
        """Whether the game's PDDL goal holds in the current state."""
        goal = self.game.goal
        g = self.game
        otypes, rtypes = g.object_types, g.receptacle_types
        if goal.task_type == "look_at_obj_in_light":
            if self.held < 0 or otypes[self.held] != goal.object_type:
                return False
            toggled = self.flags["istoggled"]
            toggleable = g.object_flags["toggleable"]
            for r in g.receptacles_at[self.agent_location]:
                for o in self.contents[r]:
                    if otypes[o] == goal.toggle_type and o in toggled and o in toggleable:
                        return True
            return False
        required = {
            "pick_clean_then_place_in_recep": "isclean",
            "pick_heat_then_place_in_recep": "ishot",
            "pick_cool_then_place_in_recep": "iscool",
        }.get(goal.task_type)
        needed = 2 if goal.task_type == "pick_two_obj_and_place" else 1
        capable = g.object_flags[_CAPABILITY[required]] if required else None
        for r, rtype in enumerate(rtypes):
            if rtype != goal.parent_type:
                continue
            count = 0
            for o in self.contents[r]:
                if otypes[o] == goal.object_type and (
                    required is None or (o in self.flags[required] and o in capable)
                ):
                    count += 1
                    if count >= needed:
                        return True
        return False
