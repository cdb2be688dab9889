"""A rule-based expert for VirtualHome tasks: the next action, in words, from any state.

It replans from the current graph at every call, so it recovers from any detour the agent took.
The goal's parts are worked on in a fixed order:

1. the next action group, if it can be done right away (e.g. ``Drink cup`` while holding the cup);
2. placements ``X ON/INSIDE Y`` (go to X, open what it is in, grab it, go to Y, open Y if X goes
   inside, put it there), clothes to wear, objects to hold;
3. object states (open/close, then plug, then switch, then clean);
4. closeness (``character CLOSE cat``);
5. the remaining action groups, in order, each after its preconditions (facing, holding, ...);
6. the posture (``Sit on couch``, ``Lie on bed``; stand up first if seated elsewhere);
7. facing (``Turn to television``), then actions that need the posture (``Sleep``).

Going somewhere is ``Walk to X`` (after ``Stand up`` when seated); a busy pair of hands is freed
with ``Drop X`` for an object the goal does not need. Each proposal is checked on a copy of the
episode (simulator and name bindings, RNG included) before it is returned, so the expert never
proposes an action that fails or that binds a name to another object than the one it means; when
its first choice would, it falls back on simple recoveries (stand up, free a hand, walk to the
target) and returns ``None`` if nothing works.

Commands are written like the dataset's humanized gold actions: ``Walk to dining room``,
``Put food food in fridge``, ``Switch on television``.
"""

from __future__ import annotations

from .script import ScriptLine
from .simulator import Simulator
from .tasks import ActionGoal, Goal
from .text import Binder, act, humanize_command

Step = tuple[str, tuple[int, ...]]

_STATE_ORDER = ("OPEN", "CLOSED", "PLUGGED_IN", "PLUGGED_OUT", "ON", "OFF", "CLEAN")
_POSTURES = ("SITTING", "LYING")
_POSTURE_ACTIONS = ("SLEEP", "WAKEUP")


def expert_command(sim: Simulator, binder: Binder, goal: Goal, matched: int, *, strict: bool = False) -> str | None:
    """The expert's next command for the episode state ``(sim, binder)``, or None when the goal is
    met or no checked proposal works. ``matched`` is how many action groups are already done.

    Example:
        >>> from spa_gym.envs.virtualhome.tasks import TaskSuite
        >>> task = TaskSuite("test_seen").task(0)
        >>> sim, binder = Simulator(task.graph), Binder(task.bindings)
        >>> expert_command(sim, binder, task.goal, 0)
        'Walk to phone'
    """
    if goal.satisfied(sim, matched):
        return None
    planner = _Planner(sim, goal, matched, binder.bindings)
    for step in planner.proposals():
        text = humanize_command(step[0], [sim.class_name(i) for i in step[1]])
        if _works(text, step, sim, binder, strict):
            return text
    return None


def _works(text: str, step: Step, sim: Simulator, binder: Binder, strict: bool) -> bool:
    outcome = act(text, sim.clone(), binder.copy(), strict=strict, render=False)
    return outcome.success and outcome.line is not None and outcome.line.ids == step[1]


class _Planner:
    """The rules; every method returns the next step towards its sub-goal, or None if it is met."""

    def __init__(self, sim: Simulator, goal: Goal, matched: int, bindings: dict[str, int]):
        self.sim, self.goal, self.matched, self.bindings = sim, goal, matched, bindings
        self.char = sim.character_id
        self.held = {i for i in sim.held() if i is not None}
        self.keep = {b for a, relation, b in goal.relations if a == self.char and relation == "HOLDS"}
        self.keep.update(g.target for g in goal.actions[matched:] if g.target is not None
                         and g.actions[0] in ("READ", "DRINK"))

    # -- what the planner proposes ---------------------------------------------------------------
    def proposals(self) -> list[Step]:
        """The planned step first, then recoveries."""
        steps = [step for step in (self.plan(),) if step is not None]
        steps.extend(self.other_seats())
        if self.posture():
            steps.append(("STANDUP", ()))
        steps.extend(("DROP", (item,)) for item in sorted(self.held - self.keep))
        return steps

    def plan(self) -> Step | None:
        goal, char = self.goal, self.char
        pending = self.goal.actions[self.matched] if self.matched < len(goal.actions) else None
        for x, relation, y in goal.relations:
            if x != char and y != char and not goal.relation_holds(self.sim, (x, relation, y)):
                if pending is not None and pending.target == x and x in self.held and \
                        pending.actions[0] in ("READ", "DRINK"):
                    return self.action(pending)
                return self.place(x, relation, y)
        for x, relation, y in goal.relations:
            if y == char and not goal.relation_holds(self.sim, (x, relation, y)):
                return self.wear(x)
        for x, relation, y in goal.relations:
            if x == char and relation == "HOLDS" and y not in self.held:
                return self.acquire(y)
        for state in _STATE_ORDER:
            for node_id, wanted in goal.states:
                if wanted == state and node_id != char and wanted not in self.sim.states(node_id):
                    return self.set_state(node_id, wanted)
        for x, relation, y in goal.relations:
            if x == char and relation == "CLOSE" and not self.sim.has_edge(char, "CLOSE", y):
                return self.approach(y, direct=True)
        if pending is not None and not (self.seat_pending() and self.seated_action(pending)):
            return self.action(pending)
        step = self.seat()
        if step is not None:
            return step
        for x, relation, y in goal.relations:
            if x == char and relation == "FACING" and not self.sim.has_edge(char, "FACING", y):
                return "TURNTO", (y,)
        return self.action(pending) if pending is not None else None

    # -- facts --------------------------------------------------------------------------------------
    def posture(self) -> str | None:
        states = self.sim.states(self.char)
        return next((p for p in _POSTURES if p in states), None)

    def close(self, node_id: int) -> bool:
        """VirtualHome's loose closeness (the simulator's rule)."""
        sim = self.sim
        close = sim.targets(self.char, "CLOSE")
        return (node_id in close or not close.isdisjoint(sim.sources("CLOSE", node_id))
                or not close.isdisjoint(sim.targets(node_id, "ON")))

    def closed_containers(self, node_id: int) -> list[int]:
        sim = self.sim
        return sorted(c for c in sim.targets(node_id, "INSIDE")
                      if "CLOSED" in sim.states(c) and sim.room_of(c) != c)

    # -- sub-goals ----------------------------------------------------------------------------------
    def approach(self, node_id: int, direct: bool = False) -> Step | None:
        """Be close to a node: stand up if seated, then walk there."""
        if self.sim.has_edge(self.char, "CLOSE", node_id) or (not direct and self.close(node_id)):
            return None
        if self.posture():
            return "STANDUP", ()
        if "BODY_PART" in self.sim.properties(node_id) and "sink" in self.bindings:
            return "WALK", (self.bindings["sink"],)
        return "WALK", (node_id,)

    def free_hand(self, keep: set[int]) -> Step | None:
        """Drop an object the goal does not need if both hands are busy."""
        if len(self.held) < 2:
            return None
        spare = sorted(self.held - keep - self.keep)
        return ("DROP", (spare[0],)) if spare else None

    def acquire(self, node_id: int) -> Step | None:
        """Hold a node: go to it, open what it is in, free a hand, grab it."""
        if node_id in self.held:
            return None
        step = self.approach(node_id)
        if step is not None:
            return step
        for container in self.closed_containers(node_id):
            return self.open(container, {node_id})
        return self.free_hand({node_id}) or ("GRAB", (node_id,))

    def open(self, node_id: int, keep: set[int]) -> Step:
        if "ON" in self.sim.states(node_id):
            return "SWITCHOFF", (node_id,)
        return self.free_hand(keep) or ("OPEN", (node_id,))

    def place(self, item: int, relation: str, target: int) -> Step | None:
        """Put ``item`` ON/INSIDE ``target``."""
        if item not in self.held:
            return self.acquire(item)
        step = self.approach(target)
        if step is not None:
            return step
        if relation == "INSIDE" and "CAN_OPEN" in self.sim.properties(target) and \
                "OPEN" not in self.sim.states(target):
            return self.open(target, {item})
        return ("PUTIN" if relation == "INSIDE" else "PUTBACK"), (item, target)

    def wear(self, item: int) -> Step | None:
        return self.acquire(item) or ("PUTON", (item,))

    def set_state(self, node_id: int, state: str) -> Step | None:
        step = self.approach(node_id)
        if step is not None:
            return step
        states = self.sim.states(node_id)
        if state == "ON":
            if "PLUGGED_OUT" in states:
                return self.free_hand(set()) or ("PLUGIN", (node_id,))
            return "SWITCHON", (node_id,)
        if state == "OFF":
            return "SWITCHOFF", (node_id,)
        if state == "OPEN":
            return self.open(node_id, set())
        if state == "CLOSED":
            return "CLOSE", (node_id,)
        if state in ("PLUGGED_IN", "PLUGGED_OUT"):
            return self.free_hand(set()) or (("PLUGIN" if state == "PLUGGED_IN" else "PLUGOUT"), (node_id,))
        return ("WIPE" if self.held else "WASH"), (node_id,)

    def posture_goal(self) -> tuple[str, int] | None:
        """The goal's posture and seat, if it has one."""
        char, goal = self.char, self.goal
        wanted = next((s for i, s in goal.states if i == char and s in _POSTURES), None)
        seat = next((y for x, relation, y in goal.relations if x == char and relation == "ON"), None)
        return None if wanted is None or seat is None else (wanted, seat)

    def seat_pending(self) -> bool:
        found = self.posture_goal()
        return found is not None and not (found[0] in self.sim.states(self.char)
                                          and self.sim.has_edge(self.char, "ON", found[1]))

    def seated_action(self, group: ActionGoal) -> bool:
        """Whether the action group can be done from the goal's seat (then it is done seated)."""
        verb, target = group.actions[0], group.target
        if verb in _POSTURE_ACTIONS:
            return True
        found = self.posture_goal()
        if target is None or found is None:
            return False
        sim, seat = self.sim, found[1]
        if verb in ("WATCH", "LOOKAT", "POINTAT"):
            return sim.room_of(seat) == sim.room_of(target)
        if verb in ("READ", "DRINK"):
            return target in self.held
        if verb in ("TYPE", "TOUCH", "EAT"):
            return seat in sim.sources("CLOSE", target) or seat in sim.targets(target, "ON")
        return False

    def seat(self) -> Step | None:
        """Reach the goal's posture on its seat (walking right up to it, so that what is close to the
        seat is close to the character once seated)."""
        found = self.posture_goal()
        if found is None:
            return None
        char = self.char
        wanted, seat = found
        verb = "SIT" if wanted == "SITTING" else "LIE"
        posture = self.posture()
        on_seat = self.sim.has_edge(char, "ON", seat)
        if posture == wanted and on_seat:
            return None
        if posture is not None and not on_seat:
            return "STANDUP", ()
        if not self.seat_takes(seat, verb):
            if on_seat:
                others = self.other_seats()
                return others[0] if others else None
            goal_ids = set(self.goal.ids())
            clutter = [i for i in sorted(self.sim.sources("ON", seat))
                       if i != char and i not in goal_ids and "GRABBABLE" in self.sim.properties(i)]
            return self.acquire(clutter[0]) if clutter else None
        if posture is None or not on_seat:
            step = self.approach(seat, direct=True)
            if step is not None:
                return step
        return verb, (seat,)

    def seat_takes(self, seat: int, verb: str) -> bool:
        """Whether the seat takes the character (VirtualHome caps how many things may be ON it), tried
        on a copy: stand up, walk there, sit or lie."""
        trial = self.sim.clone()
        if self.posture():
            trial.execute(ScriptLine("STANDUP"))
        name = trial.class_name(seat)
        trial.execute(ScriptLine("WALK", ((name, seat),)))
        return trial.execute(ScriptLine(verb, ((name, seat),)))[0]

    def other_seats(self) -> list[Step]:
        """Recoveries for a seat VirtualHome will not take again: STANDUP leaves the character ON the
        seat, which then counts against the seat's capacity (a chair takes one). The character still
        being ON the goal's seat, any seat of the right kind gives the goal's posture."""
        found = self.posture_goal()
        if found is None or self.posture() or not self.sim.has_edge(self.char, "ON", found[1]):
            return []
        if self.seat_takes(found[1], "SIT" if found[0] == "SITTING" else "LIE"):
            return []
        wanted, seat = found
        needed = "SITTABLE" if wanted == "SITTING" else "LIEABLE"
        verb = "SIT" if wanted == "SITTING" else "LIE"
        sim, room = self.sim, self.sim.room_of(self.char)
        steps: list[Step] = []
        for node_id in sorted(sim.sources("INSIDE", room)):
            name = sim.class_name(node_id)
            if (node_id != seat and needed in sim.properties(node_id) and self.bindings.get(name, node_id) == node_id
                    and self.seat_takes(node_id, verb)):
                steps.append(self.approach(node_id, direct=True) or (verb, (node_id,)))
        return steps

    def action(self, group: ActionGoal) -> Step | None:
        """The next step towards one action group."""
        verb, target = group.actions[0], group.target
        sim = self.sim
        if target is None:
            if verb in _POSTURE_ACTIONS:
                return (verb, ()) if self.posture() else self.seat()
            return (verb, ())
        if verb in ("WATCH", "LOOKAT", "POINTAT"):
            if verb == "WATCH" and sim.room_of(self.char) != sim.room_of(target):
                return self.approach(target) or ("TURNTO", (target,))
            if not sim.has_edge(self.char, "FACING", target):
                return "TURNTO", (target,)
            return verb, (target,)
        if verb in ("READ", "DRINK", "PUTON"):
            return self.acquire(target) or (verb, (target,))
        if verb in ("SIT", "LIE"):
            if self.posture():
                return "STANDUP", ()
            return self.approach(target) or (verb, (target,))
        if verb in ("SWITCHON", "SWITCHOFF"):
            step = self.approach(target)
            if step is not None:
                return step
            states = sim.states(target)
            if verb == "SWITCHON" and "ON" in states:
                return "SWITCHOFF", (target,)
            if verb == "SWITCHOFF" and "OFF" in states:
                return self.set_state(target, "ON")
            if verb == "SWITCHON" and "PLUGGED_OUT" in states:
                return self.free_hand(set()) or ("PLUGIN", (target,))
            return verb, (target,)
        if verb == "GRAB":
            return ("DROP", (target,)) if target in self.held else self.acquire(target)
        step = self.approach(target)
        if step is not None:
            return step
        if verb in ("TOUCH", "PUSH", "PULL", "MOVE"):
            for container in self.closed_containers(target):
                return self.open(container, set())
        if verb in ("SQUEEZE", "PUSH", "PULL", "MOVE", "OPEN", "PLUGIN", "PLUGOUT"):
            step = self.free_hand(set())
            if step is not None:
                return step
        return verb, (target,)
