"""The WebShop agent prompt: instructions, the example task, templated thoughts."""

from __future__ import annotations

import re

from .style import REACT_ANSWER_FORMAT

ENV_ID = "SPA-WebShop-v0"

#: The task of the WebShop example: goal 0 of the train split of the default generated catalog
#: (a raised garden bed in a given color and size; the expert searches, opens it, picks both
#: options and buys it in 5 steps).
EXAMPLE_SPLIT = "train"
EXAMPLE_INDEX = 0

REACT_INSTRUCTION = """\
You are shopping on WebShop, a simulated online store. Each episode gives you one instruction: the \
product to buy, the attributes and options it must have, and a price limit. Every observation is \
the page you are on, its parts separated by " [SEP] ".

Commands you can use (one per turn):
- search[keywords]: search the store (possible whenever the page shows a search box, as the first \
page does)
- click[button]: click a button shown on the page: a product id from the results, an option value \
on a product page, "Buy Now", "Next >", "< Prev", "Back to Search", "Description", "Features", \
"Reviews" or "Attributes"
A command that the page does not offer changes nothing. The episode ends when you click "Buy Now"; \
the purchase is scored by how well it matches the instruction.

""" + REACT_ANSWER_FORMAT

COMPACT_INSTRUCTION = "You shop for the product in the instruction. Reply with search[...] or click[...] only."


def thought(action: str) -> str | None:
    """A thought for WebShop's ``search[...]`` and ``click[...]`` commands (``None`` for anything else).

    Example:
        >>> thought("click[Buy Now]")
        'The product and its options match the instruction, so I buy it.'
    """
    lowered = action.lower()
    if lowered.startswith("search[") and lowered.endswith("]"):
        return f"I search the store for {action[7:-1]}."
    if not (lowered.startswith("click[") and lowered.endswith("]")):
        return None
    target = action[6:-1]
    if target.lower() == "buy now":
        return "The product and its options match the instruction, so I buy it."
    if target.lower() in ("next >", "< prev", "back to search"):
        return f"I click {target} to look elsewhere."
    if re.fullmatch(r"b0[0-9a-z]{8}", target.lower()):
        return f"Product {target} looks like what the instruction asks for, so I open it."
    return f"I choose {target}."
