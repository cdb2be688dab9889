"""VirtualHome's vocabulary: object classes, categories, properties, states, relations and rooms.

Every name is VirtualHome's own (``home_office`` is the living room, ``dining_room`` the kitchen,
``coffe_maker`` is spelled as in VirtualHome), so text written for the real scenes transfers. The
class table comes from the TrimmedTestScene1 graphs recorded in ``shared/fixtures/virtualhome``
(categories and properties as found there; where an object is a script-added ``placable_objects``
node in scene 1 but furniture elsewhere, e.g. ``dishwasher``, it gets its furniture category). Three
classes that scene 1 lacks but the other TrimmedTestScenes use are added by analogy: ``fridge`` (as
``freezer``), ``closet`` (as ``dresser``) and ``coffee_table``'s furniture category.

Default states follow the VirtualHome program dataset's init-graph rule:
``CAN_OPEN`` -> ``CLOSED``, ``HAS_SWITCH`` -> ``OFF``, ``HAS_PLUG`` -> ``PLUGGED_IN``, and ``CLEAN``;
lights and lamps start ``ON`` and doors ``OPEN``, as in the recorded scenes.

Example:
    >>> CLASSES["television"].properties
    ('HAS_PLUG', 'HAS_SWITCH', 'LOOKABLE')
    >>> CLASSES["television"].default_states
    ('OFF', 'PLUGGED_IN', 'CLEAN')
    >>> humanize("coffe_maker")
    'coffe maker'
"""

from __future__ import annotations

from dataclasses import dataclass

#: VirtualHome's ``State`` enum.
STATES: tuple[str, ...] = (
    "CLOSED", "OPEN", "ON", "OFF", "SITTING", "DIRTY", "CLEAN", "LYING", "PLUGGED_IN", "PLUGGED_OUT",
)
#: The order in which spa-gym prints a node's states ("OFF and PLUGGED_IN and OPEN and CLEAN", as in
#: the gold observations); VirtualHome keeps states in a set, so its own order varies between runs.
STATE_ORDER: tuple[str, ...] = (
    "ON", "OFF", "PLUGGED_IN", "PLUGGED_OUT", "OPEN", "CLOSED", "SITTING", "LYING", "CLEAN", "DIRTY",
)
#: VirtualHome's ``Relation`` enum.
RELATIONS: tuple[str, ...] = ("ON", "INSIDE", "BETWEEN", "CLOSE", "FACING", "HOLDS_RH", "HOLDS_LH", "SITTING")
#: VirtualHome's ``Property`` enum.
PROPERTIES: tuple[str, ...] = (
    "SURFACES", "GRABBABLE", "SITTABLE", "LIEABLE", "HANGABLE", "DRINKABLE", "EATABLE", "RECIPIENT", "CUTTABLE",
    "POURABLE", "CAN_OPEN", "HAS_SWITCH", "READABLE", "LOOKABLE", "CONTAINERS", "CLOTHES", "PERSON", "BODY_PART",
    "COVER_OBJECT", "HAS_PLUG", "HAS_PAPER", "MOVABLE", "CREAM",
)
#: The four room classes of the TrimmedTestScenes.
ROOMS: tuple[str, ...] = ("bathroom", "bedroom", "dining_room", "home_office")
#: Everyday words for the rooms, as crowd workers wrote them in program descriptions.
ROOM_WORDS: dict[str, tuple[str, ...]] = {
    "bathroom": ("bathroom", "restroom"),
    "bedroom": ("bedroom",),
    "dining_room": ("kitchen", "dining room"),
    "home_office": ("living room", "home office"),
}


@dataclass(frozen=True)
class ObjectClass:
    """One VirtualHome object class: its category, properties and default states."""

    name: str
    category: str
    properties: tuple[str, ...]
    default_states: tuple[str, ...]

    def has(self, prop: str) -> bool:
        """Whether the class has property ``prop`` (e.g. ``"GRABBABLE"``)."""
        return prop in self.properties


# name | category | properties | states that replace the rule's (optional)
_CLASS_TABLE = """
bathroom|Rooms||CLEAN
bedroom|Rooms||CLEAN
dining_room|Rooms||CLEAN
home_office|Rooms||CLEAN
character|Characters||-
floor|Floor|SURFACES
wall|Walls|
ceiling|Ceiling|
window|Windows|
door|Doors|CAN_OPEN|OPEN CLEAN
doorjamb|Doors||OPEN CLEAN
ceilinglamp|Lamps||ON CLEAN
walllamp|Lamps||ON CLEAN
tablelamp|Lamps|HAS_SWITCH|ON CLEAN
floor_lamp|Lamps|HAS_SWITCH MOVABLE
light|Electronics|HAS_PLUG HAS_SWITCH|ON PLUGGED_IN CLEAN
powersocket|Electronics|
curtain|Decor|CAN_OPEN COVER_OBJECT MOVABLE
mat|Decor|GRABBABLE LIEABLE MOVABLE SITTABLE SURFACES
drawing|Decor|CUTTABLE GRABBABLE HAS_PAPER LOOKABLE MOVABLE
orchid|Decor|
pillow|Decor|GRABBABLE MOVABLE
photoframe|Props|
bathtub|Furniture|LIEABLE SITTABLE
towel_rack|Furniture|GRABBABLE MOVABLE SURFACES
wallshelf|Furniture|
shower|Furniture||OFF CLEAN
toilet|Furniture|CAN_OPEN CONTAINERS SITTABLE|OPEN OFF CLEAN
bathroom_cabinet|Furniture|CAN_OPEN CONTAINERS SURFACES
bathroom_counter|Furniture|SURFACES
sink|Furniture|CONTAINERS RECIPIENT
faucet|Furniture|HAS_SWITCH
trashcan|Furniture|CAN_OPEN CONTAINERS MOVABLE|OPEN CLEAN
nightstand|Furniture|CAN_OPEN CONTAINERS SURFACES
bookshelf|Furniture|CAN_OPEN CONTAINERS SURFACES
chair|Furniture|GRABBABLE MOVABLE SITTABLE SURFACES
desk|Furniture|MOVABLE SURFACES
bed|Furniture|LIEABLE SITTABLE SURFACES
table|Furniture|MOVABLE SURFACES
coffee_table|Furniture|MOVABLE SURFACES
dresser|Furniture|CAN_OPEN CONTAINERS
closet|Furniture|CAN_OPEN CONTAINERS
couch|Furniture|LIEABLE MOVABLE SITTABLE SURFACES
tvstand|Furniture|SURFACES
bench|Furniture|LIEABLE MOVABLE SITTABLE SURFACES
cupboard|Furniture|CAN_OPEN CONTAINERS
kitchen_counter|Furniture|SURFACES
kitchen_cabinet|Furniture|CAN_OPEN CONTAINERS SURFACES
filing_cabinet|Furniture|CAN_OPEN CONTAINERS SURFACES
hanger|Furniture|GRABBABLE HANGABLE MOVABLE
stovefan|Appliances|
freezer|Appliances|CAN_OPEN CONTAINERS HAS_PLUG HAS_SWITCH
fridge|Appliances|CAN_OPEN CONTAINERS HAS_PLUG HAS_SWITCH
oven|Appliances|CAN_OPEN CONTAINERS HAS_PLUG HAS_SWITCH
microwave|Appliances|CAN_OPEN CONTAINERS HAS_PLUG HAS_SWITCH
coffe_maker|Appliances|CAN_OPEN CONTAINERS HAS_PLUG HAS_SWITCH MOVABLE RECIPIENT
toaster|Appliances|HAS_PLUG HAS_SWITCH MOVABLE
dishwasher|Appliances|CAN_OPEN CONTAINERS HAS_SWITCH
washing_machine|Appliances|CAN_OPEN CONTAINERS HAS_PLUG HAS_SWITCH RECIPIENT
tray|Appliances|GRABBABLE MOVABLE SURFACES
television|Electronics|HAS_PLUG HAS_SWITCH LOOKABLE
computer|Electronics|HAS_SWITCH LOOKABLE
cpuscreen|Electronics|
keyboard|Electronics|GRABBABLE HAS_PLUG MOVABLE
mouse|Electronics|GRABBABLE HAS_PLUG MOVABLE
mousepad|Electronics|MOVABLE SURFACES
wall_clock|Electronics|GRABBABLE HAS_PLUG HAS_SWITCH LOOKABLE MOVABLE
phone|Electronics|GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE
stereo|Electronics|CAN_OPEN GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE SURFACES
hands_both|placable_objects|BODY_PART
address_book|placable_objects|CAN_OPEN CUTTABLE GRABBABLE HAS_PAPER MOVABLE READABLE
after_shave|placable_objects|CAN_OPEN CREAM GRABBABLE MOVABLE POURABLE
alarm_clock|placable_objects|GRABBABLE HAS_PLUG HAS_SWITCH LOOKABLE MOVABLE
alcohol|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
bag|placable_objects|CAN_OPEN CONTAINERS COVER_OBJECT GRABBABLE MOVABLE RECIPIENT
basket_for_clothes|placable_objects|CAN_OPEN CONTAINERS GRABBABLE MOVABLE
beer|placable_objects|CAN_OPEN DRINKABLE GRABBABLE MOVABLE POURABLE
bills|placable_objects|CUTTABLE GRABBABLE HAS_PAPER MOVABLE READABLE
blender|placable_objects|CAN_OPEN GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE POURABLE RECIPIENT
board_game|placable_objects|GRABBABLE LOOKABLE MOVABLE SURFACES
bookmark|placable_objects|GRABBABLE HAS_PAPER MOVABLE
bowl|placable_objects|GRABBABLE MOVABLE RECIPIENT
box|placable_objects|CAN_OPEN CONTAINERS COVER_OBJECT GRABBABLE MOVABLE RECIPIENT
broom|placable_objects|GRABBABLE MOVABLE
brush|placable_objects|GRABBABLE MOVABLE
candle|placable_objects|GRABBABLE HAS_SWITCH MOVABLE
cards|placable_objects|CUTTABLE GRABBABLE HAS_PAPER MOVABLE
cat|placable_objects|GRABBABLE MOVABLE
cd|placable_objects|GRABBABLE MOVABLE
check|placable_objects|GRABBABLE HAS_PAPER MOVABLE READABLE
chessboard|placable_objects|GRABBABLE MOVABLE SURFACES
cloth_napkin|placable_objects|COVER_OBJECT CUTTABLE GRABBABLE HAS_PAPER MOVABLE
clothes_dress|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
clothes_hat|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
clothes_jacket|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
clothes_pants|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
clothes_scarf|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
clothes_shirt|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
clothes_socks|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
coffee|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
coffee_filter|placable_objects|GRABBABLE HAS_PAPER MOVABLE
coffee_pot|placable_objects|CAN_OPEN GRABBABLE MOVABLE RECIPIENT
coin|placable_objects|GRABBABLE MOVABLE
colander|placable_objects|GRABBABLE MOVABLE RECIPIENT
comb|placable_objects|GRABBABLE MOVABLE
crayon|placable_objects|GRABBABLE MOVABLE
creditcard|placable_objects|GRABBABLE MOVABLE
cup|placable_objects|GRABBABLE MOVABLE POURABLE RECIPIENT
cutting_board|placable_objects|GRABBABLE MOVABLE SURFACES
deck_of_cards|placable_objects|GRABBABLE HAS_PAPER MOVABLE
detergent|placable_objects|GRABBABLE MOVABLE POURABLE
diary|placable_objects|CAN_OPEN GRABBABLE HAS_PAPER MOVABLE READABLE
dish_soap|placable_objects|CREAM GRABBABLE MOVABLE POURABLE
dishrack|placable_objects|GRABBABLE MOVABLE SURFACES
dog|placable_objects|GRABBABLE MOVABLE
drinking_glass|placable_objects|GRABBABLE MOVABLE POURABLE RECIPIENT
envelope|placable_objects|CAN_OPEN COVER_OBJECT CUTTABLE GRABBABLE HAS_PAPER MOVABLE
folder|placable_objects|CAN_OPEN CONTAINERS GRABBABLE HAS_PAPER MOVABLE READABLE
food_bread|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_cake|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_carrot|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_cheese|placable_objects|CREAM CUTTABLE EATABLE GRABBABLE MOVABLE
food_egg|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_food|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_kiwi|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_noodles|placable_objects|EATABLE GRABBABLE MOVABLE
food_orange|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_pizza|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
food_steak|placable_objects|CUTTABLE EATABLE GRABBABLE MOVABLE
fork|placable_objects|GRABBABLE MOVABLE
glue|placable_objects|CREAM GRABBABLE MOVABLE
ground_coffee|placable_objects|CAN_OPEN GRABBABLE MOVABLE
hairbrush|placable_objects|GRABBABLE MOVABLE
hairdryer|placable_objects|GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE
headset|placable_objects|CLOTHES GRABBABLE MOVABLE
homework|placable_objects|GRABBABLE HAS_PAPER MOVABLE READABLE
iron|placable_objects|GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE
juice|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
kettle|placable_objects|GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE RECIPIENT
keys|placable_objects|GRABBABLE MOVABLE
knife|placable_objects|GRABBABLE MOVABLE
laptop|placable_objects|GRABBABLE HAS_PLUG HAS_SWITCH LOOKABLE MOVABLE
laundry_detergent|placable_objects|GRABBABLE MOVABLE POURABLE
mail|placable_objects|CAN_OPEN GRABBABLE HAS_PAPER MOVABLE READABLE
measuring_cup|placable_objects|GRABBABLE MOVABLE POURABLE RECIPIENT
milk|placable_objects|CAN_OPEN DRINKABLE GRABBABLE MOVABLE POURABLE
mop|placable_objects|GRABBABLE MOVABLE
mouthwash|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
napkin|placable_objects|COVER_OBJECT GRABBABLE HAS_PAPER MOVABLE
newspaper|placable_objects|CAN_OPEN COVER_OBJECT GRABBABLE HAS_PAPER MOVABLE READABLE
novel|placable_objects|CAN_OPEN CUTTABLE GRABBABLE HAS_PAPER MOVABLE READABLE
oil|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
oven_mitts|placable_objects|CLOTHES GRABBABLE HANGABLE MOVABLE
pajamas|placable_objects|CLOTHES GRABBABLE MOVABLE
paper_towel|placable_objects|COVER_OBJECT CUTTABLE GRABBABLE HANGABLE HAS_PAPER MOVABLE
pencil|placable_objects|GRABBABLE MOVABLE
picture|placable_objects|GRABBABLE HANGABLE HAS_PAPER MOVABLE
plate|placable_objects|GRABBABLE MOVABLE RECIPIENT SURFACES
pot|placable_objects|CAN_OPEN GRABBABLE MOVABLE RECIPIENT
purse|placable_objects|CAN_OPEN CONTAINERS COVER_OBJECT GRABBABLE MOVABLE RECIPIENT
rag|placable_objects|COVER_OBJECT GRABBABLE MOVABLE RECIPIENT
razor|placable_objects|GRABBABLE MOVABLE
remote_control|placable_objects|GRABBABLE HAS_SWITCH MOVABLE
scissors|placable_objects|GRABBABLE MOVABLE
shampoo|placable_objects|CAN_OPEN GRABBABLE MOVABLE POURABLE
shaving_cream|placable_objects|CREAM GRABBABLE MOVABLE POURABLE
sheets|placable_objects|COVER_OBJECT GRABBABLE MOVABLE
shoes|placable_objects|CLOTHES GRABBABLE MOVABLE
soap|placable_objects|CREAM GRABBABLE MOVABLE
spectacles|placable_objects|CLOTHES GRABBABLE MOVABLE
sponge|placable_objects|GRABBABLE MOVABLE
spoon|placable_objects|GRABBABLE MOVABLE
stamp|placable_objects|GRABBABLE MOVABLE
table_cloth|placable_objects|COVER_OBJECT GRABBABLE MOVABLE SURFACES
tape|placable_objects|GRABBABLE MOVABLE
tea|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
teeth|placable_objects|GRABBABLE MOVABLE
toilet_paper|placable_objects|COVER_OBJECT CUTTABLE GRABBABLE HANGABLE HAS_PAPER MOVABLE
tooth_paste|placable_objects|CAN_OPEN CREAM GRABBABLE MOVABLE POURABLE
toothbrush|placable_objects|GRABBABLE MOVABLE RECIPIENT
toothbrush_holder|placable_objects|CONTAINERS GRABBABLE MOVABLE
towel|placable_objects|COVER_OBJECT GRABBABLE MOVABLE
toy|placable_objects|GRABBABLE MOVABLE
video_game_controller|placable_objects|GRABBABLE HAS_PLUG HAS_SWITCH MOVABLE
water|placable_objects|DRINKABLE POURABLE
water_glass|placable_objects|GRABBABLE MOVABLE POURABLE RECIPIENT
wine|placable_objects|DRINKABLE GRABBABLE MOVABLE POURABLE
wooden_spoon|placable_objects|GRABBABLE MOVABLE
"""


def default_states(properties: tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
    """The dataset's default states for an object with these properties.

    Example:
        >>> default_states(("CAN_OPEN", "HAS_SWITCH", "HAS_PLUG"))
        ('OFF', 'PLUGGED_IN', 'CLOSED', 'CLEAN')
    """
    states = []
    if "HAS_SWITCH" in properties:
        states.append("OFF")
    if "HAS_PLUG" in properties:
        states.append("PLUGGED_IN")
    if "CAN_OPEN" in properties:
        states.append("CLOSED")
    states.append("CLEAN")
    return tuple(states)


def _load_classes() -> dict[str, ObjectClass]:
    classes: dict[str, ObjectClass] = {}
    for row in _CLASS_TABLE.strip().splitlines():
        name, category, props, *override = row.split("|")
        properties = tuple(props.split())
        unknown = set(properties) - set(PROPERTIES)
        if unknown:
            raise ValueError(f"class {name!r} has unknown properties {sorted(unknown)}")
        if override:
            states = () if override[0] == "-" else tuple(override[0].split())
        else:
            states = default_states(properties)
        classes[name] = ObjectClass(name, category, properties, states)
    return classes


#: Every class spa-gym's households use, by name.
CLASSES: dict[str, ObjectClass] = _load_classes()


def humanize(class_name: str) -> str:
    """A class name as the gold action lists write it: underscores become spaces.

    Example:
        >>> humanize("remote_control")
        'remote control'
    """
    return class_name.replace("_", " ")


def order_states(states) -> list[str]:
    """``states`` in :data:`STATE_ORDER` (unknown states last, alphabetically).

    Example:
        >>> order_states({"CLEAN", "OPEN", "PLUGGED_IN", "OFF"})
        ['OFF', 'PLUGGED_IN', 'OPEN', 'CLEAN']
    """
    known = [state for state in STATE_ORDER if state in states]
    return known + sorted(state for state in states if state not in _STATE_RANK)


_STATE_RANK = {state: rank for rank, state in enumerate(STATE_ORDER)}
