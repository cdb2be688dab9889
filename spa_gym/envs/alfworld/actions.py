"""The kinds of action in ALFWorld's PDDL domain, as the engine's admissible table tags them.

An admissible-table entry is a tuple whose first element is one of these kinds and whose other
elements are receptacle or object indices (see :mod:`.engine`).
"""

GOTO, OPEN, CLOSE, TAKE, PUT, EXAMINE_R, EXAMINE_O, HEAT, COOL, CLEAN, USE, SLICE, INVENTORY, LOOK, HELP = range(15)

#: Kinds that only read the state.
READ_ONLY = frozenset({EXAMINE_R, EXAMINE_O, INVENTORY, LOOK, HELP})
