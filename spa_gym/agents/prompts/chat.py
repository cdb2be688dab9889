"""The chat around the env texts: example episodes, the conversation's turns, templated thoughts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from . import alfworld, webshop
from .style import OBSERVATION_PREFIX, EnvPrompt, PromptStyle, check_style


def templated_thought(action: str) -> str:
    """A short thought that states the intent of ``action`` (for SFT targets from expert commands).

    WebShop and ALFWorld commands get a sentence of their own; anything else ``"I will <action>."``.

    Example:
        >>> templated_thought("go to countertop 1")
        'I need to go to countertop 1.'
        >>> templated_thought("put mug 1 in/on countertop 1")
        'I put mug 1 in/on countertop 1.'
        >>> templated_thought("click[Buy Now]")
        'The product and its options match the instruction, so I buy it.'
        >>> templated_thought("walk to tv")
        'I will walk to tv.'
    """
    action = " ".join(action.split())
    known = webshop.thought(action) or alfworld.thought(action)
    if known:
        return known
    return f"I will {action}." if action else "I am not sure what to do next."


@cache
def expert_example_episode(env_id: str, split: str, index: int) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An example episode: ``(initial observation, ((command, observation), ...))`` of the env's
    expert on task ``index`` of ``split`` (the env's default settings otherwise).

    Deterministic (the suites and the experts are), computed once per process. Raises
    ``RuntimeError`` if the expert does not win.
    """
    import gymnasium as gym

    env = gym.make(env_id, split=split).unwrapped  # importing spa_gym registered the ids
    observation, _ = env.reset(options={"task_index": index})
    steps: list[tuple[str, str]] = []
    won = False
    for _ in range(50):
        command = env.expert_action()
        if command is None:
            break
        answer, _, _, _, info = env.step(command)
        steps.append((command, answer))
        won = info["won"]
        if won:
            break
    env.close()
    if not won:  # pragma: no cover - guards a change of a suite or an expert
        raise RuntimeError(f"the {env_id} expert did not solve the example task of the prompt")
    return observation, tuple(steps)


def _example_messages(initial: str, steps: Sequence[tuple[str, str]], style: PromptStyle) -> list[dict[str, str]]:
    """User/assistant turns of an expert episode (the final observation is left out)."""
    messages = [{"role": "user", "content": initial}]
    for number, (command, answer) in enumerate(steps):
        messages.append({"role": "assistant", "content": format_assistant(command, None, style)})
        if number + 1 < len(steps):
            messages.append({"role": "user", "content": format_observation(answer, style)})
    return messages


def expert_prompt_builder(env_id: str, react_instruction: str, compact_instruction: str, example_split: str,
                          example_index: int) -> Callable[[PromptStyle], EnvPrompt]:
    """A prompt builder for :data:`PROMPTS`: the react style gets the env expert's episode on task
    ``example_index`` of ``example_split`` as its in-context example; the compact style none."""

    def build(style: PromptStyle) -> EnvPrompt:
        if style == "compact":
            return EnvPrompt(compact_instruction, [], "compact", env_id)
        initial, steps = expert_example_episode(env_id, example_split, example_index)
        return EnvPrompt(react_instruction, _example_messages(initial, steps, "react"), "react", env_id)

    return build


def format_observation(observation: str, style: PromptStyle = "react") -> str:
    """A user turn for an env answer after the first observation: ``"Observation: ..."`` (react)
    or the observation itself (compact)."""
    check_style(style)
    return OBSERVATION_PREFIX + observation if style == "react" else observation


def format_assistant(action: str, thought: str | None = None, style: PromptStyle = "react") -> str:
    """An assistant turn for ``action``: ``"Thought: {thought}\\nAction: {action}"`` (react; the thought
    defaults to :func:`templated_thought`) or the bare action (compact)."""
    check_style(style)
    if style == "compact":
        return action
    if thought is None:
        thought = templated_thought(action)
    return f"Thought: {thought}\nAction: {action}"


def build_messages(
    prompt: EnvPrompt, task_observation: str, history: Sequence[tuple[str, str]] = ()
) -> list[dict[str, str]]:
    """The whole chat for the next model turn: system instruction, the in-context example (if any),
    the task's initial observation, then per ``(assistant_text, observation)`` of ``history`` the
    agent's raw text and the env's answer (formatted by :func:`format_observation`).

    Pass ``add_generation_prompt=True`` to the tokenizer's chat template to generate the next turn.
    """
    messages = [{"role": "system", "content": prompt.instruction}]
    messages.extend(dict(turn) for turn in prompt.example)
    messages.append({"role": "user", "content": task_observation})
    for assistant_text, observation in history:
        messages.append({"role": "assistant", "content": assistant_text})
        messages.append({"role": "user", "content": format_observation(observation, prompt.style)})
    return messages
