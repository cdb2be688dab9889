"""The VirtualHome agent prompt: instructions and the example task."""

from __future__ import annotations

from .style import REACT_ANSWER_FORMAT

ENV_ID = "SPA-VirtualHome-v0"

#: The task of the VirtualHome example: train task 2 ("Cook some food": take the steak, put it in
#: the microwave, close it and switch it on; the expert needs 7 commands).
EXAMPLE_SPLIT = "train"
EXAMPLE_INDEX = 2

REACT_INSTRUCTION = """\
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

""" + REACT_ANSWER_FORMAT

COMPACT_INSTRUCTION = "You are a household robot. Reply with the next command only."
