"""Chat prompts of the LLM agent and action parsing (spa_gym.agents.prompts)."""

from __future__ import annotations

import re

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401  (registers the env ids)
from spa_gym.agents import prompts
from spa_gym.agents.prompts import (
    EnvPrompt,
    build_messages,
    format_assistant,
    format_observation,
    get_prompt,
    parse_action,
    parse_thought,
    templated_thought,
)
from spa_gym.agents.prompts import alfworld as alfworld_prompt
from spa_gym.envs.alfworld import Episode, TaskSuite, expert_plan

ALFWORLD = "SPA-ALFWorld-v0"


# -- parse_action -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thought: I need a mug.\nAction: go to cabinet 1", "go to cabinet 1"),
        ("Action: go to cabinet 1\nAction: open cabinet 1", "open cabinet 1"),
        ("Thought: first go.\nAction: go to desk 1\nThought: then open.\nAction: open drawer 2", "open drawer 2"),
        ("thought: hmm\naction: take mug 1 from desk 1", "take mug 1 from desk 1"),
        ("ACTION: look", "look"),
        ("Action : inventory", "inventory"),
        ("Action: go to countertop 2.", "go to countertop 2"),
        ("Action: go to countertop 2..", "go to countertop 2."),  # only one period is removed
        ('Action: "open fridge 1"', "open fridge 1"),
        ("Action: 'open fridge 1'.", "open fridge 1"),
        ('Action: "open fridge 1."', "open fridge 1"),
        ("Action: `put mug 1 in/on shelf 2`", "put mug 1 in/on shelf 2"),
        ("Action: ```heat egg 1 with microwave 1```", "heat egg 1 with microwave 1"),
        ("**Action:** go to bed 1", "go to bed 1"),
        ("Action: [go to bed 1]", "go to bed 1"),
        ("Action: <cool apple 1 with fridge 1>", "cool apple 1 with fridge 1"),
        ("Action: search[red shoes]", "search[red shoes]"),  # brackets inside a command stay
        ("Action: [a] and [b]", "[a] and [b]"),
        ("Thought: ok\nAction: go to sinkbasin 1\nObservation: You arrive at loc 3.\nmore text", "go to sinkbasin 1"),
        ("Action: go to sinkbasin 1 Observation: You arrive.", "go to sinkbasin 1"),
        ("Thought: x\nAction:\n\n   examine mug 1  \nlater", "examine mug 1"),
        ("   Action:    use desklamp 1   ", "use desklamp 1"),
        ("I think I should open it.\n\nopen drawer 3\n\n", "open drawer 3"),
        ("go to garbagecan 1", "go to garbagecan 1"),
        ("The transaction: none\nlook", "look"),  # "transaction:" is not an Action marker
        ("Thought: nothing to do\nAction:", ""),
        ("", ""),
        ("   \n\n  ", ""),
    ],
)
def test_parse_action_react(text, expected):
    assert parse_action(text) == expected
    assert parse_action(text, "react") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("go to cabinet 1", "go to cabinet 1"),
        ("  go to cabinet 1  \nopen cabinet 1", "go to cabinet 1"),
        ("\n\nlook\n", "look"),
        ("take mug 1 from desk 1.", "take mug 1 from desk 1"),
        ("Action: inventory", "inventory"),
        ("'look'", "look"),
        ("", ""),
        ("\n  \n", ""),
    ],
)
def test_parse_action_compact(text, expected):
    assert parse_action(text, "compact") == expected


def test_parse_action_never_raises_on_odd_input():
    assert parse_action(None) == ""  # type: ignore[arg-type]
    assert parse_action("Action: " + "x" * 100_000) == "x" * 100_000
    assert parse_action("Action: ü ☃ 1\x00") == "ü ☃ 1\x00"
    assert parse_action("Action: .") == ""
    assert parse_action("Action: ''") == ""
    assert parse_thought(None) == ""  # type: ignore[arg-type]


def test_parse_thought():
    assert parse_thought("Thought: the mug is here.\nAction: take mug 1 from desk 1") == "the mug is here."
    assert parse_thought("Thought: a\nb\nAction: look") == "a\nb"
    assert parse_thought("no marker\nAction: look") == "no marker"
    assert parse_thought("Thought: a\nAction: look\nAction: inventory") == "a\nAction: look"
    assert parse_thought("Thought: only thinking\nlook") == "only thinking"
    assert parse_thought("look") == ""
    assert parse_thought("") == ""


def test_templated_thoughts():
    assert templated_thought("go to countertop 1") == "I need to go to countertop 1."
    assert templated_thought("open drawer 2") == "The drawer 2 is closed, so I open it."
    assert templated_thought("close drawer 2") == "I close drawer 2."
    assert templated_thought("take mug 1 from countertop 1") == "I take mug 1 from countertop 1."
    assert templated_thought("put mug 1 in/on shelf 1") == "I put mug 1 in/on shelf 1."
    assert templated_thought("move mug 1 to shelf 1") == "I move mug 1 to shelf 1."
    assert templated_thought("heat egg 1 with microwave 1") == "I heat egg 1 with microwave 1."
    assert templated_thought("cool egg 1 with fridge 1") == "I cool egg 1 with fridge 1."
    assert templated_thought("clean egg 1 with sinkbasin 1") == "I clean egg 1 with sinkbasin 1."
    assert templated_thought("use desklamp 1") == "I turn on desklamp 1 to look in its light."
    assert templated_thought("examine mug 1") == "I examine mug 1 to check it."
    assert templated_thought("inventory") == "I check the inventory."
    assert templated_thought("look") == "I look around."
    assert templated_thought("click[Buy Now]") == "The product and its options match the instruction, so I buy it."
    assert templated_thought("search[red lamp]") == "I search the store for red lamp."
    assert templated_thought("click[B0ABCDEF12]") == ("Product B0ABCDEF12 looks like what the instruction asks for, "
                                                      "so I open it.")
    assert templated_thought("click[< Prev]") == "I click < Prev to look elsewhere."
    assert templated_thought("click[navy blue]") == "I choose navy blue."
    assert templated_thought("walk to kitchen") == "I will walk to kitchen."


def test_webshop_prompts():
    react = get_prompt("SPA-WebShop-v0", "react")
    assert react.example[0]["content"].startswith("WebShop [SEP] Instruction: [SEP] ")
    assert [parse_action(turn["content"]) for turn in react.example
            if turn["role"] == "assistant"][-1] == "click[buy now]"
    assert get_prompt("SPA-WebShop-v0", "compact").example == []


def test_format_assistant_round_trips_through_the_parsers():
    assert format_assistant("look", "I am lost.", "react") == "Thought: I am lost.\nAction: look"
    assert format_assistant("look") == "Thought: I look around.\nAction: look"
    assert format_assistant("look", "ignored", "compact") == "look"
    env = gym.make(ALFWORLD, split="valid_seen")
    _, info = env.reset(options={"task_index": 0})
    commands = list(info["admissible_actions"])
    for _ in range(10):
        action = env.unwrapped.expert_action()
        if action is None:
            break
        _, _, _, _, info = env.step(action)
        commands += info["admissible_actions"]
    for command in commands:
        for style in ("react", "compact"):
            assert parse_action(format_assistant(command, None, style), style) == command
        assert parse_thought(format_assistant(command)) == templated_thought(command)


# -- the ALFWorld prompt ------------------------------------------------------------------------

def test_react_instruction_names_every_command_template_and_the_format():
    instruction = get_prompt(ALFWORLD).instruction
    for template in (
        "go to {recep}", "open {recep}", "close {recep}", "take {obj} from {recep}", "put {obj} in/on {recep}",
        "examine {something}", "use {obj}", "heat {obj} with {recep}", "cool {obj} with {recep}",
        "clean {obj} with {recep}", "inventory", "look", "move {obj} to {recep}", "slice {obj} with {obj}",
    ):
        assert template in instruction, template
    for template in alfworld_prompt.COMMANDS:
        assert template in instruction
    assert "2.1.3" in instruction
    assert '"Nothing happens."' in instruction
    assert "Thought: <your reasoning about what to do next>\nAction: <one command>" in instruction
    assert instruction == alfworld_prompt.REACT_INSTRUCTION


def example_task():
    return TaskSuite(alfworld_prompt.EXAMPLE_SPLIT).game(alfworld_prompt.EXAMPLE_INDEX)


def test_example_actions_are_the_expert_plan_and_win():
    prompt = get_prompt(ALFWORLD, "react")
    assert prompt.style == "react" and prompt.env_id == ALFWORLD
    example = prompt.example
    roles = [turn["role"] for turn in example]
    assert roles == ["user", "assistant"] * (len(example) // 2)
    actions = [parse_action(turn["content"]) for turn in example if turn["role"] == "assistant"]
    plan = expert_plan(Episode(example_task()))
    assert actions == plan
    assert 5 <= len(plan) <= 8
    assert example_task().goal.task_type == "pick_and_place_simple"
    assert actions == [
        "go to drawer 4",
        "open drawer 4",
        "take keychain 3 from drawer 4",
        "go to sidetable 2",
        "put keychain 3 in/on sidetable 2",
    ]
    for turn in example:
        if turn["role"] == "assistant":
            action = parse_action(turn["content"])
            assert turn["content"] == f"Thought: {templated_thought(action)}\nAction: {action}"

    env = gym.make(ALFWORLD, split=alfworld_prompt.EXAMPLE_SPLIT)
    obs, info = env.reset(options={"task_index": alfworld_prompt.EXAMPLE_INDEX})
    assert example[0]["content"] == obs
    assert "Your task is to: put a keychain in sidetable." in obs
    won = False
    for number, action in enumerate(actions):
        assert not won
        obs, reward, terminated, _, info = env.step(action)
        assert info["grounded"]
        if number + 1 < len(actions):
            assert example[2 * number + 2]["content"] == "Observation: " + obs
        won = terminated
    assert won and reward == 1.0 and info["won"]


def test_prompts_are_deterministic_and_fresh():
    first, second = get_prompt(ALFWORLD), get_prompt(ALFWORLD)
    assert first == second
    first.example[0]["content"] = "changed"
    first.example.append({"role": "user", "content": "x"})
    assert get_prompt(ALFWORLD) == second  # callers cannot corrupt the cached example


def test_compact_prompt():
    prompt = get_prompt(ALFWORLD, "compact")
    assert prompt == EnvPrompt(alfworld_prompt.COMPACT_INSTRUCTION, [], "compact", ALFWORLD)
    assert "\n" not in prompt.instruction and len(prompt.instruction) < 100


def test_unknown_env_id_and_style():
    with pytest.raises(ValueError, match=re.escape("prompts exist for ['SPA-ALFWorld-v0'")):
        get_prompt("SPA-Nowhere-v0")
    with pytest.raises(ValueError, match="style"):
        get_prompt(ALFWORLD, "verbose")  # type: ignore[arg-type]


def test_registry_accepts_new_envs(monkeypatch):
    monkeypatch.setitem(prompts.PROMPTS, "Toy-v0", lambda style: EnvPrompt("toy", [], style, "Toy-v0"))
    assert get_prompt("Toy-v0", "compact") == EnvPrompt("toy", [], "compact", "Toy-v0")
    with pytest.raises(ValueError, match="Toy-v0"):
        get_prompt("Other-v0")


# -- build_messages -----------------------------------------------------------------------------

HISTORY = [("Thought: go.\nAction: go to desk 1", "You arrive at loc 2."), ("Action: look", "Nothing happens.")]


def test_build_messages_react():
    prompt = get_prompt(ALFWORLD, "react")
    messages = build_messages(prompt, "TASK OBS", HISTORY)
    n = len(prompt.example)
    assert messages[0] == {"role": "system", "content": prompt.instruction}
    assert messages[1 : 1 + n] == prompt.example
    assert messages[1 + n :] == [
        {"role": "user", "content": "TASK OBS"},
        {"role": "assistant", "content": "Thought: go.\nAction: go to desk 1"},
        {"role": "user", "content": "Observation: You arrive at loc 2."},
        {"role": "assistant", "content": "Action: look"},
        {"role": "user", "content": "Observation: Nothing happens."},
    ]
    roles = [m["role"] for m in messages]
    assert roles == ["system"] + ["user", "assistant"] * (n // 2) + ["user", "assistant", "user", "assistant", "user"]
    assert build_messages(prompt, "TASK OBS", [])[-1] == {"role": "user", "content": "TASK OBS"}
    assert format_observation("x", "react") == "Observation: x"


def test_build_messages_compact():
    prompt = get_prompt(ALFWORLD, "compact")
    assert build_messages(prompt, "TASK OBS", HISTORY) == [
        {"role": "system", "content": prompt.instruction},
        {"role": "user", "content": "TASK OBS"},
        {"role": "assistant", "content": "Thought: go.\nAction: go to desk 1"},
        {"role": "user", "content": "You arrive at loc 2."},
        {"role": "assistant", "content": "Action: look"},
        {"role": "user", "content": "Nothing happens."},
    ]
    assert format_observation("x", "compact") == "x"


# -- the tiny tokenizer -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_tokenizer():
    from transformers import AutoTokenizer

    from spa_gym.training.tiny import tiny_model_path

    return AutoTokenizer.from_pretrained(tiny_model_path())


def expert_episode(split: str, index: int) -> tuple[str, list[tuple[str, str]]]:
    env = gym.make(ALFWORLD, split=split)
    obs, _ = env.reset(options={"task_index": index})
    steps = []
    while (action := env.unwrapped.expert_action()) is not None:
        answer, _, terminated, truncated, _ = env.step(action)
        steps.append((action, answer))
        if terminated or truncated:
            break
    return obs, steps


def test_tiny_tokenizer_reads_compact_assistant_turns(tiny_tokenizer):
    tokenizer = tiny_tokenizer
    unk = tokenizer.unk_token_id
    prompt = get_prompt(ALFWORLD, "compact")
    for split, index in (("valid_seen", 0), ("valid_seen", 3), ("valid_unseen", 5), ("train", 7)):
        initial, steps = expert_episode(split, index)
        history = [(format_assistant(action, None, "compact"), answer) for action, answer in steps]
        messages = build_messages(prompt, initial, history)
        ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        assert ids == tokenizer.encode(text, add_special_tokens=False)
        for action, _ in steps:
            action_ids = tokenizer.encode(action, add_special_tokens=False)
            assert unk not in action_ids, action
            assert tokenizer.decode(action_ids) == action
            assert parse_action(tokenizer.decode(action_ids), "compact") == action
        # each assistant turn appears in the templated ids, between the assistant marker and the end marker
        start = tokenizer.convert_tokens_to_ids("<|assistant|>")
        end = tokenizer.convert_tokens_to_ids("<|end|>")
        turns, i = [], 0
        while i < len(ids):
            if ids[i] == start:
                j = ids.index(end, i)
                turns.append(ids[i + 1 : j])
                i = j
            i += 1
        assert [tokenizer.decode(turn) for turn in turns] == [action for action, _ in steps]
        assert all(unk not in turn for turn in turns)


def test_tiny_tokenizer_reads_the_react_example_assistant_turns(tiny_tokenizer):
    unk = tiny_tokenizer.unk_token_id
    for turn in get_prompt(ALFWORLD).example:
        if turn["role"] == "assistant":
            assert unk not in tiny_tokenizer.encode(turn["content"], add_special_tokens=False), turn["content"]


def test_virtualhome_prompts():
    react = get_prompt("SPA-VirtualHome-v0", "react")
    assert react.example[0]["content"].startswith("The task is Cook some food(")
    commands = [parse_action(turn["content"]) for turn in react.example if turn["role"] == "assistant"]
    assert commands[-1] == "Switch on microwave" and len(commands) == 7
    assert get_prompt("SPA-VirtualHome-v0", "compact").instruction.endswith("next command only.")
