"""What a spa-gym :class:`~spa_gym.data.trajectories.Trajectory` needs and the exchange formats do
not record, and the rules that fill it in.

- **Env id** (:func:`infer_env_id`): from the task's first observation: WebShop's search page
  (``WebShop [SEP] Instruction: ...`` or its ``text_rich`` form), ALFWorld's ``Your task is to:``
  line, VirtualHome's ``The task is ...``. Readers take ``env_id=`` to skip the guess.
- **Task text** (:func:`task_text`): as the env's ``info["task"]``: WebShop's instruction, ALFWorld's
  goal (the ``Your task is to:`` line without its period), VirtualHome's whole first observation.
- **Action** (:func:`parse_action`): the text after the last ``Action:`` of an assistant turn, its
  first non-empty line, stripped (ETO's and SPA-RL's harnesses parse ``Action: (.*)``; AgentGym
  writes ``Action:`` and the action on the next line); a turn without ``Action:`` is the action.
- **Grounded** (:func:`infer_grounded`): ALFWorld and VirtualHome: the answer is not
  ``Nothing happens.`` (nor a harness's ``Error Input`` / ``Invalid`` message), SPA-RL's own test.
  WebShop: ``search[...]`` with a query, or ``click[x]`` where ``x`` is a button, link or option of
  the page the action was sent on (its ``[SEP]`` segments in ``text`` mode, its ``[button]`` lines
  in ``text_rich``). A heuristic in ``text`` mode: a click on a plain text segment (a title) counts
  as grounded. An unrecorded last answer counts as grounded, as SPA-RL's reward code gives the
  last action its grounding bonus. :func:`~spa_gym.data.replay.replay` gives the env's own flags.
- **Rewards**: every step 0 but the last, which carries the final reward (all three envs reward only
  the end); ``won`` is ``final_reward == 1.0`` (ALFWorld's and VirtualHome's success is binary,
  WebShop's is a score of exactly 1).
- **Task ids** (:func:`spa_task_id`, :func:`external_task_id`): WebShop's goal index ``g`` (ETO's and
  SPA-RL's task ids, AgentGym's ``webshop_<g>``, WebShop's session ``fixed_<g>``) is spa-gym's
  ``all-<g:04d>``: task ``g`` of ``SPA-WebShop-v0``'s ``all`` split, which on WebShop's own files
  (``data_dir=``) is WebShop's goal ``g``. Every other id is kept as it is (ALFWorld game-file paths,
  spa-gym's ``test-0007``).

Example:
    >>> infer_env_id("WebShop [SEP] Instruction: [SEP] i need a lamp [SEP] Search")
    'SPA-WebShop-v0'
    >>> task_text("SPA-ALFWorld-v0", "You are in a room.\\n\\nYour task is to: put a mug in sinkbasin.")
    'put a mug in sinkbasin'
    >>> parse_action("Thought: the mug may be in the cabinet.\\nAction: go to cabinet 1")
    'go to cabinet 1'
    >>> spa_task_id("SPA-WebShop-v0", 314), external_task_id("SPA-WebShop-v0", "all-0314")
    ('all-0314', 314)
"""

from __future__ import annotations

import re

ALFWORLD, WEBSHOP, VIRTUALHOME = "SPA-ALFWorld-v0", "SPA-WebShop-v0", "SPA-VirtualHome-v0"

_ACTION_MARK = "Action:"
_ALFWORLD_GOAL = re.compile(r"Your task is to: (.*)")
_WEBSHOP_INSTRUCTION = re.compile(r"Instruction:[ \n]*(?:\[SEP\] )?(.*?)(?: \[SEP\] |\n|$)")
_WEBSHOP_ACTION = re.compile(r"(search|click)\[(.*)\]", re.DOTALL)
_RICH_BUTTON = re.compile(r"^\s*\[(?:clicked )?button\] (.*) \[(?:clicked )?button_\]$", re.MULTILINE)
_REJECTIONS = ("Nothing happens", "Error Input", "Invalid")
_GOAL_INDEX = re.compile(r"(?:fixed_)?(\d+)")
_ALL_SPLIT = re.compile(r"all-(\d{4,})")


def infer_env_id(first_observation: str) -> str | None:
    """The spa-gym env id whose first observation this looks like, or ``None``.

    Example:
        >>> infer_env_id("The task is Watch TV(Turn on the TV.)."), infer_env_id("hello")
        ('SPA-VirtualHome-v0', None)
    """
    if first_observation.startswith(("WebShop [SEP]", "WebShop\nInstruction:")):
        return WEBSHOP
    if _ALFWORLD_GOAL.search(first_observation):
        return ALFWORLD
    if first_observation.startswith("The task is "):
        return VIRTUALHOME
    return None


def task_text(env_id: str, first_observation: str) -> str:
    """The task as the env's ``info["task"]`` states it, read from the first observation (``""``
    when it is not there).

    Example:
        >>> task_text("SPA-WebShop-v0", "WebShop\\nInstruction: \\ni need a lamp\\n[button] Search [button_]\\n")
        'i need a lamp'
    """
    if env_id == WEBSHOP:
        found = _WEBSHOP_INSTRUCTION.search(first_observation)
        return found.group(1).strip() if found else ""
    if env_id == ALFWORLD:
        found = _ALFWORLD_GOAL.search(first_observation)
        return found.group(1).strip().removesuffix(".") if found else ""
    return first_observation


def parse_action(text: str) -> str:
    """The action of an assistant turn: after the last ``Action:``, its first non-empty line.

    Example:
        >>> parse_action("Thought:\\nI should buy it.\\n\\nAction:\\nclick[Buy Now]"), parse_action(" look ")
        ('click[Buy Now]', 'look')
    """
    mark = text.rfind(_ACTION_MARK)
    if mark < 0:
        return text.strip()
    for line in text[mark + len(_ACTION_MARK):].splitlines():
        if line.strip():
            return line.strip()
    return ""


def clickables(page: str) -> set[str]:
    """What a WebShop page offers to click, lower-cased (``text``: its segments; ``text_rich``: its buttons).

    Example:
        >>> sorted(clickables("Instruction: [SEP] i need shoes [SEP] Back to Search [SEP] B000000001"))
        ['b000000001', 'back to search', 'i need shoes', 'instruction:']
    """
    if "[button]" in page:
        return {found.lower() for found in _RICH_BUTTON.findall(page)}
    return {segment.strip().lower() for segment in page.split("[SEP]")}


def infer_grounded(env_id: str, action: str, page: str, answer: str, recorded: bool = True) -> bool:
    """Whether the env executed ``action``, sent on ``page``, judged from what it ``answer``-ed
    (``recorded=False``: the answer was not recorded; counted as grounded).

    Example:
        >>> infer_grounded("SPA-ALFWorld-v0", "fly", "You are in a room.", "Nothing happens.")
        False
        >>> page = "Instruction: [SEP] i need shoes [SEP] Back to Search [SEP] B000000001"
        >>> infer_grounded("SPA-WebShop-v0", "click[B000000001]", page, "..."), \\
        ...     infer_grounded("SPA-WebShop-v0", "click[buy now]", page, page)
        (True, False)
    """
    if not recorded:
        return True
    if answer.startswith(_REJECTIONS):
        return False
    if env_id != WEBSHOP:
        return True
    command = _WEBSHOP_ACTION.match(action)
    if command is None or not command.group(2):
        return False
    target = command.group(2).lower()
    if command.group(1) == "search":
        return True
    return target != "search" and target in clickables(page)


def spa_task_id(env_id: str, external: str | int) -> str:
    """spa-gym's task id for a format's task id: WebShop goal indices become ``all-<g:04d>``.

    Example:
        >>> spa_task_id("SPA-WebShop-v0", "fixed_13"), spa_task_id("SPA-WebShop-v0", "test-0007")
        ('all-0013', 'test-0007')
    """
    text = str(external)
    if env_id == WEBSHOP:
        index = _GOAL_INDEX.fullmatch(text)
        if index:
            return f"all-{int(index.group(1)):04d}"
    return text


def external_task_id(env_id: str, task_id: str) -> str | int:
    """A format's task id for spa-gym's: ``all-<g>`` of WebShop is the goal index ``g`` (an int).

    Example:
        >>> external_task_id("SPA-ALFWorld-v0", "train-0042")
        'train-0042'
    """
    if env_id == WEBSHOP:
        index = _ALL_SPLIT.fullmatch(task_id)
        if index:
            return int(index.group(1))
    return task_id


def purchased(actions: list[str]) -> bool:
    """Whether a WebShop episode ended with a purchase (SPA-RL's WebShop ``success``, whatever the reward).

    Example:
        >>> purchased(["search[lamp]", "click[b000000001]", "click[Buy Now]"]), purchased(["search[lamp]"])
        (True, False)
    """
    return bool(actions) and actions[-1].strip().lower() == "click[buy now]"
