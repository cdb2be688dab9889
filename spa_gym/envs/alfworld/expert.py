"""An expert that knows the whole state and gives the next command toward the goal, from any state.

Unlike ALFWorld's handcoded expert (which searches receptacles from partial observations and can
fail), this one reads the engine's state, so it always succeeds when the goal is reachable and
takes a short path: fetch a target object (cheapest reachable one), process it at the appliance
if the task needs it (heat / cool / clean), carry it to a receptacle of the goal's type (for
"two" tasks the same one each time), or, for look tasks, switch on a lamp of the goal's type while
holding the object. A wrong object in hand is put down first, so it also recovers after an agent
has wandered. Commands come out in the game's own dialect (``put ... in/on`` or ``move ... to``).

Example:
    >>> from spa_gym.envs.alfworld.engine import Episode
    >>> from spa_gym.envs.alfworld.suite import TaskSuite
    >>> episode = Episode(TaskSuite("valid_seen").game(3))
    >>> plan = expert_plan(episode)
    >>> for command in plan:
    ...     _ = episode.step(command)
    >>> episode.won
    True
"""

from __future__ import annotations

from .engine import Episode
from .text import put_command

_PROCESS = {
    "pick_clean_then_place_in_recep": ("clean", "sinkbasin", "isclean", "cleanable"),
    "pick_heat_then_place_in_recep": ("heat", "microwave", "ishot", "heatable"),
    "pick_cool_then_place_in_recep": ("cool", "fridge", "iscool", "coolable"),
}


def expert_action(episode: Episode) -> str | None:
    """The next command toward the goal, or ``None`` when the goal holds or cannot be reached."""
    if episode.won or episode.goal_satisfied():
        return None
    if episode.game.goal.task_type == "look_at_obj_in_light":
        return _look_action(episode)
    return _place_action(episode)


def expert_plan(episode: Episode, max_steps: int = 200) -> list[str]:
    """The expert's whole plan from the current state (simulated on a copy; ``episode`` is unchanged).

    Returns an empty list when the goal already holds; raises ``RuntimeError`` when the goal
    cannot be reached within ``max_steps``.
    """
    twin = episode.clone()
    plan: list[str] = []
    while not (twin.won or twin.goal_satisfied()):
        command = expert_action(twin)
        if command is None or len(plan) >= max_steps:
            raise RuntimeError(f"the expert cannot reach the goal of {episode.game.source or 'this game'}")
        twin.step(command)
        plan.append(command)
    return plan


# -- shared moves -------------------------------------------------------------------------------
def _reach(episode: Episode, r: int) -> str | None:
    """The command that brings receptacle ``r`` within reach (go there, open it), or None if it is."""
    g = episode.game
    if g.receptacle_location[r] != episode.agent_location:
        return "go to " + g.receptacle_names[r]
    if g.openable[r] and not episode.opened[r]:
        return "open " + g.receptacle_names[r]
    return None


def _cost(episode: Episode, r: int) -> int:
    g = episode.game
    cost = 0 if g.receptacle_location[r] == episode.agent_location else 1
    if g.openable[r] and not episode.opened[r]:
        cost += 1
    return cost


def _cheapest(episode: Episode, receptacles: list[int]) -> int | None:
    return min(receptacles, key=lambda r: (_cost(episode, r), r), default=None)


def _fetch(episode: Episode, candidates: list[int]) -> str | None:
    """Go for the cheapest reachable candidate object and take it."""
    g = episode.game
    options = [(o, r) for o in candidates for r in episode.containers[o]]
    if not options:
        return None
    o, r = min(options, key=lambda pair: (_cost(episode, pair[1]), pair[1], pair[0]))
    return _reach(episode, r) or f"take {g.object_names[o]} from {g.receptacle_names[r]}"


def _put_down(episode: Episode) -> str | None:
    """Put the held (wrong) object into a receptacle that can hold it: one here if possible."""
    g = episode.game
    held = episode.held
    otype = g.object_types[held]
    fits = [r for r, rtype in enumerate(g.receptacle_types) if (rtype, otype) in g.can_contain]
    r = _cheapest(episode, fits)
    if r is None:
        return None
    return _reach(episode, r) or put_command(g.grammar, g.object_names[held], g.receptacle_names[r])


def _targets(episode: Episode) -> list[int]:
    g = episode.game
    pickupable = g.object_flags["pickupable"]
    return [o for o, t in enumerate(g.object_types) if t == g.goal.object_type and o in pickupable]


# -- look at an object under a lamp ---------------------------------------------------------------
def _look_action(episode: Episode) -> str | None:
    g = episode.game
    goal = g.goal
    held = episode.held
    if held >= 0 and g.object_types[held] != goal.object_type:
        return _put_down(episode)
    if held < 0:
        return _fetch(episode, _targets(episode))
    lamps = [
        (o, r)
        for r in range(len(g.receptacle_ids))
        for o in sorted(episode.contents[r])
        if g.object_types[o] == goal.toggle_type and o in g.object_flags["toggleable"]
    ]
    if not lamps:
        return None
    lamp, r = min(lamps, key=lambda pair: (g.receptacle_location[pair[1]] != episode.agent_location, pair[1]))
    if g.receptacle_location[r] != episode.agent_location:
        return "go to " + g.receptacle_names[r]
    return "use " + g.object_names[lamp]


# -- put an object (processed if need be) into a receptacle of a type ------------------------------
def _place_action(episode: Episode) -> str | None:
    g = episode.game
    goal = g.goal
    otype = goal.object_type
    process = _PROCESS.get(goal.task_type)
    parents = [
        r for r, rtype in enumerate(g.receptacle_types) if rtype == goal.parent_type and (rtype, otype) in g.can_contain
    ]
    if not parents:
        return None

    def ready(o: int) -> bool:
        return process is None or (o in episode.flags[process[2]] and o in g.object_flags[process[3]])

    def count_in(r: int) -> int:
        return sum(1 for o in episode.contents[r] if g.object_types[o] == otype and ready(o))

    if goal.task_type == "pick_two_obj_and_place":
        destination = max(parents, key=lambda r: (count_in(r), -_cost(episode, r), -r))
        destinations = {destination}
    else:
        destination = _cheapest(episode, parents)
        destinations = set(parents)
    assert destination is not None
    held = episode.held
    if held >= 0 and g.object_types[held] != otype:
        return _put_down(episode)
    if held >= 0:
        if not ready(held):
            verb, appliance_type, _, capability = process  # type: ignore[misc]
            if held not in g.object_flags[capability]:
                return _put_down(episode)
            appliances = [r for r, rtype in enumerate(g.receptacle_types) if rtype == appliance_type]
            appliance = min(
                appliances, key=lambda r: (g.receptacle_location[r] != episode.agent_location, r), default=None
            )
            if appliance is None:
                return None
            if g.receptacle_location[appliance] != episode.agent_location:
                return "go to " + g.receptacle_names[appliance]
            return f"{verb} {g.object_names[held]} with {g.receptacle_names[appliance]}"
        return _reach(episode, destination) or put_command(
            g.grammar, g.object_names[held], g.receptacle_names[destination]
        )
    placed = {o for r in destinations for o in episode.contents[r] if ready(o)}
    candidates = [o for o in _targets(episode) if o not in placed]
    if process is not None:
        candidates = [o for o in candidates if o in g.object_flags[process[3]]]
    return _fetch(episode, candidates)


def plan_length(episode: Episode) -> int | None:
    """How many commands the expert still needs (0 once won; ``None`` when the goal is out of reach)."""
    try:
        return len(expert_plan(episode))
    except RuntimeError:
        return None


def progress_labels(episode: Episode, actions: list[str]) -> list[bool]:
    """Replay ``actions`` from ``episode`` (a copy; the original is unchanged) and say, per step,
    whether it made progress: the expert's remaining plan got shorter.

    A ground truth for credit assignment that needs the full state, so no agent or estimator sees it.
    """
    twin = episode.clone()
    labels = []
    before = plan_length(twin)
    for action in actions:
        twin.step(action)
        after = plan_length(twin)
        labels.append(before is not None and after is not None and after < before)
        before = after
    return labels


class Explorer:
    """An expert that knows only what an agent could have seen, as ALFWorld's handcoded expert.

    It knows every receptacle (the intro lists them) but an object only once the receptacle
    holding it has been seen open (or is not openable) from where the agent stood. Until a target
    is seen it searches: receptacles that can hold the target's type first, nearest (already
    here) first, opening closed ones. The rest of the plan is the full expert's. Its
    demonstrations can be imitated by an agent that sees only observations, which the full-state
    expert's (straight to the hidden object) cannot.

    Example:
        >>> from spa_gym.envs.alfworld.suite import TaskSuite
        >>> episode = Episode(TaskSuite("valid_seen").game(3))
        >>> explorer = Explorer()
        >>> while (command := explorer.action(episode)) is not None:
        ...     _ = episode.step(command)
        >>> episode.won
        True
    """

    def __init__(self) -> None:
        self.seen: set[int] = set()  # receptacles whose contents the agent has seen

    def reset(self) -> None:
        self.seen.clear()

    def _look_around(self, episode: Episode) -> None:
        g = episode.game
        for r in g.receptacles_at[episode.agent_location]:
            if not g.openable[r] or episode.opened[r]:
                self.seen.add(r)

    def action(self, episode: Episode) -> str | None:
        """The next command, or ``None`` once won (or when the goal cannot be reached)."""
        self._look_around(episode)
        if episode.won or episode.goal_satisfied():
            return None
        g = episode.game
        holding_target = episode.held >= 0 and g.object_types[episode.held] == g.goal.object_type
        if episode.held >= 0 or self._known_targets(episode):
            command = expert_action(_Restricted(episode, self.seen)) if not holding_target else expert_action(episode)
            if command is not None:
                return command
        return self._search(episode)

    def _known_targets(self, episode: Episode) -> bool:
        g = episode.game
        return any(
            g.object_types[o] == g.goal.object_type for r in self.seen for o in episode.contents[r]
        )

    def _search(self, episode: Episode) -> str | None:
        g = episode.game
        otype = g.goal.object_type
        unseen = [r for r in range(len(g.receptacle_ids)) if r not in self.seen]
        if not unseen:
            return None
        here = episode.agent_location
        r = min(unseen, key=lambda r: ((g.receptacle_types[r], otype) not in g.can_contain,
                                        g.receptacle_location[r] != here, r))
        if g.receptacle_location[r] != here:
            return "go to " + g.receptacle_names[r]
        return "open " + g.receptacle_names[r]


class _Restricted:
    """An episode view whose receptacles outside ``seen`` look empty (the explorer's knowledge)."""

    def __init__(self, episode: Episode, seen: set[int]):
        self._episode = episode
        self.contents = [c if r in seen else set() for r, c in enumerate(episode.contents)]
        self.containers = [{r for r in rs if r in seen} for rs in episode.containers]

    def __getattr__(self, name: str):
        return getattr(self._episode, name)
