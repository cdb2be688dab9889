"""Exchange formats: hand-written samples of each published shape round-trip exactly, spa-gym's
trajectories survive a trip through each format (minus what the format does not hold), malformed
files are named by file and line, and the loaded trajectories feed SFT and the progress estimator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401  (registers the env ids)
from spa_gym.data import Trajectory, TrajectoryWriter, collect_expert_trajectories, collect_trajectories, make_policy
from spa_gym.data.formats import FORMATS, convert, detect, get_format, load_trajectories, write_trajectories
from spa_gym.data.formats.conversation import Preamble, instruction_preamble

# -- samples, written from the formats' published descriptions --------------------------------------

WEBSHOP_INSTRUCTION = "i need some whitening toothpaste, and price lower than 30.00 dollars"
WEBSHOP_SEARCH = f"WebShop [SEP] Instruction: [SEP] {WEBSHOP_INSTRUCTION} [SEP] Search"
WEBSHOP_RESULTS = (f"Instruction: [SEP] {WEBSHOP_INSTRUCTION} [SEP] Back to Search [SEP] Page 1 (Total results: 50) "
                   "[SEP] Next > [SEP] B07KWJ3Z5M [SEP] Brightening Toothpaste, Mint [SEP] $8.99")
WEBSHOP_ITEM = (f"Instruction: [SEP] {WEBSHOP_INSTRUCTION} [SEP] Back to Search [SEP] < Prev [SEP] "
                "Brightening Toothpaste, Mint [SEP] Price: $8.99 [SEP] Rating: N.A. [SEP] Description [SEP] "
                "Features [SEP] Reviews [SEP] Buy Now")
ALFWORLD_INTRO = ("-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly around "
                  "you, you see a desk 1, a drawer 1, and a shelf 1.\n\nYour task is to: put some pencil on shelf.")


def human(text: str) -> dict:
    return {"from": "human", "value": text}


def gpt(text: str) -> dict:
    return {"from": "gpt", "value": text}


#: ETO SFT data: instruction, OK, the episode; later observations prefixed "Observation:\n" on WebShop;
#: the last turn is the agent's (the purchase's page is not recorded).
ETO_WEBSHOP = {"id": 314, "conversations": [
    human("You are web shopping.\nEvery round you get the page; answer with a Thought and an Action."),
    gpt("OK"),
    human(WEBSHOP_SEARCH),
    gpt("Thought: I think I should search for whitening toothpaste first.\nAction: search[whitening toothpaste]"),
    human("Observation:\n" + WEBSHOP_RESULTS),
    gpt("Thought: The first product is a whitening toothpaste under 30 dollars.\nAction: click[B07KWJ3Z5M]"),
    human("Observation:\n" + WEBSHOP_ITEM),
    gpt("Thought: It has what the instruction asks for, so I buy it.\nAction: click[Buy Now]"),
]}

#: ETO on ALFWorld: "Observation: " prefixes, ends with the winning action's answer.
ETO_ALFWORLD = {"id": "pick_and_place_simple-Pencil-None-Shelf-315", "conversations": [
    human("Interact with a household to solve a task."),
    gpt("OK"),
    human(ALFWORLD_INTRO),
    gpt("Thought: A pencil is likely on the desk.\nAction: go to desk 1"),
    human("Observation: You arrive at loc 5. On the desk 1, you see a pencil 1."),
    gpt("Thought: I take it.\nAction: take pencil 1 from desk 1"),
    human("Observation: You pick up the pencil 1 from the desk 1."),
    gpt("Action: fly to the shelf"),
    human("Observation: Nothing happens."),
    gpt("Thought: Now the shelf.\nAction: go to shelf 1"),
    human("Observation: You arrive at loc 7. On the shelf 1, you see nothing."),
    gpt("Thought: Put it down.\nAction: put pencil 1 in/on shelf 1"),
    human("Observation: You put the pencil 1 in/on the shelf 1."),
]}

#: AgentGym AgentTraj: item_id "webshop_<goal>", loss on the episode's gpt turns, raw observations.
AGENTGYM_WEBSHOP = {"item_id": "webshop_314", "conversations": [
    {"from": "human", "loss": False, "value": "You are web shopping. Answer with Thought: and Action:."},
    {"from": "gpt", "loss": False, "value": "Ok."},
    {"from": "human", "loss": False, "value": WEBSHOP_SEARCH},
    {"from": "gpt", "loss": True, "value": "Thought:\nI should search first.\n\nAction:\nsearch[whitening toothpaste]"},
    {"from": "human", "loss": False, "value": WEBSHOP_RESULTS},
    {"from": "gpt", "loss": True, "value": "Thought:\nThis one fits.\n\nAction:\nclick[B07KWJ3Z5M]"},
    {"from": "human", "loss": False, "value": WEBSHOP_ITEM},
    {"from": "gpt", "loss": True, "value": "Thought:\nBuy it.\n\nAction:\nclick[Buy Now]"},
    {"from": "human", "loss": False, "value": "Thank you for shopping with us! [SEP] Your code: [SEP] None"},
]}

EXAMPLE_TASK = "i need a long lasting 6.76 fl oz bottle of leau dissey, and price lower than 100.00 dollars"
#: SPA-RL's exploration record on WebShop: instruction, OK, an 8-turn example, then the rollout.
SPA_RL_WEBSHOP_TURNS = [
    ("user", "You are web shopping. Answer with Thought: and Action:."),
    ("assistant", "OK"),
    ("user", f"WebShop [SEP] Instruction: [SEP] {EXAMPLE_TASK} [SEP] Search"),
    ("assistant", "Thought: I search first.\nAction: search[l'eau d'issey 6.76 fl oz bottle]"),
    ("user", f"Observation:\nInstruction: [SEP] {EXAMPLE_TASK} [SEP] Back to Search [SEP] B000VOHH8I"),
    ("assistant", "Thought: The first one.\nAction: click[B000VOHH8I]"),
    ("user", f"Observation:\nInstruction: [SEP] {EXAMPLE_TASK} [SEP] Back to Search [SEP] 6.76 fl oz (pack of 1)"),
    ("assistant", "Thought: The size.\nAction: click[6.76 fl oz (pack of 1)]"),
    ("user", f"Observation:\nInstruction: [SEP] {EXAMPLE_TASK} [SEP] Back to Search [SEP] 6.76 fl oz (pack of 1)"),
    ("assistant", "Thought: Buy it.\nAction: click[Buy Now]"),
    ("user", WEBSHOP_SEARCH),
    ("assistant", "Thought: I search.\nAction: search[whitening toothpaste]"),
    ("user", "Observation:\n" + WEBSHOP_RESULTS),
    ("assistant", "Thought: This one.\nAction: click[B07KWJ3Z5M]"),
    ("user", "Observation:\n" + WEBSHOP_ITEM),
    ("assistant", "Thought: Buy it.\nAction: click[Buy Now]"),
    ("user", "Observation:\nThank you for shopping with us! [SEP] Your code: [SEP] None"),
]
SPA_RL_WEBSHOP = {"id": 314, "iteration": 0,
                  "agent_conversations": [{"role": r, "content": c} for r, c in SPA_RL_WEBSHOP_TURNS],
                  "agent_final_reward": 0.75, "success": True}

#: WebShop's human demonstration (text_rich pages), one line of il_trajs_finalized_images.jsonl.
IL_INSTRUCTION = "i need a red lamp, and price lower than 40.00 dollars"
IL_STATES = [
    f"WebShop\nInstruction: \n{IL_INSTRUCTION}\n[button] Search [button_]\n",
    f"Instruction:\n{IL_INSTRUCTION}\n[button] Back to Search [button_]\nPage 1 (Total results: 1)\n"
    "[button] Next > [button_]\n\n[button] B000000001 [button_]\nAcme Desk Lamp\n$5.0\n",
    f"Instruction:\n{IL_INSTRUCTION}\n[button] Back to Search [button_]\n[button] < Prev [button_]\ncolor\n"
    "  [button] red [button_]\n  [button] blue [button_]\nAcme Desk Lamp\nPrice: $5.0\nRating: N.A.\n"
    "[button] Description [button_]\n[button] Features [button_]\n[button] Reviews [button_]\n"
    "[button] Buy Now [button_]\n",
    f"You have clicked red.\nInstruction:\n{IL_INSTRUCTION}\n[button] Back to Search [button_]\n"
    "[button] < Prev [button_]\ncolor\n  [clicked button] red [clicked button_]\n  [button] blue [button_]\n"
    "Acme Desk Lamp\nPrice: $5.0\nRating: N.A.\n[button] Description [button_]\n[button] Features [button_]\n"
    "[button] Reviews [button_]\n[button] Buy Now [button_]\n",
]
IL_DEMO = {
    "states": IL_STATES,
    "actions": ["search[red lamp]", "click[b000000001]", "click[red]", "click[buy now]"],
    "actions_translate": ["search[red lamp]", "click[item - acme desk lamp]", "click[red]", "click[buy now]"],
    "available_actions": [["search[red lamp]"],
                          ["click[back to search]", "click[next >]", "click[item - acme desk lamp]"],
                          ["click[back to search]", "click[< prev]", "click[red]", "click[blue]", "click[buy now]"],
                          ["click[back to search]", "click[< prev]", "click[red]", "click[blue]", "click[buy now]"]],
    "action_idxs": [-1, 2, 2, 4],
}


def dump(records: list[dict], path: Path) -> Path:
    path.write_text(json.dumps(records, indent=1) if path.suffix == ".json" else
                    "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines()]


# -- reading the samples ----------------------------------------------------------------------------

def test_eto_webshop_sample_reads_as_the_episode(tmp_path: Path) -> None:
    [walk] = load_trajectories(dump([ETO_WEBSHOP], tmp_path / "webshop_sft.json"))
    assert (walk.env_id, walk.task_id, walk.task) == ("SPA-WebShop-v0", "all-0314", WEBSHOP_INSTRUCTION)
    assert walk.initial_observation == WEBSHOP_SEARCH
    assert [s.action for s in walk.steps] == ["search[whitening toothpaste]", "click[B07KWJ3Z5M]", "click[Buy Now]"]
    assert [s.observation for s in walk.steps] == [WEBSHOP_RESULTS, WEBSHOP_ITEM, ""]  # the last page: not recorded
    assert walk.steps[0].raw_output == ETO_WEBSHOP["conversations"][3]["value"]
    assert [s.grounded for s in walk.steps] == [True, True, True]
    assert [s.reward for s in walk.steps] == [0.0, 0.0, 0.0] and (walk.final_reward, walk.won) == (0.0, False)


def test_eto_alfworld_sample_infers_grounding_from_nothing_happens(tmp_path: Path) -> None:
    [walk] = load_trajectories(dump([ETO_ALFWORLD], tmp_path / "alfworld_sft.jsonl"))
    assert (walk.env_id, walk.task_id, walk.task) == ("SPA-ALFWorld-v0", ETO_ALFWORLD["id"], "put some pencil on shelf")
    assert [s.grounded for s in walk.steps] == [True, True, False, True, True]
    assert walk.steps[2].raw_output is None  # "Action: <action>" is what the writers write for no raw output
    assert walk.steps[4].observation == "You put the pencil 1 in/on the shelf 1."


def test_agentgym_sample_reads_the_goal_from_the_item_id(tmp_path: Path) -> None:
    [walk] = load_trajectories(dump([AGENTGYM_WEBSHOP], tmp_path / "webshop_train.json"))
    assert (walk.env_id, walk.task_id) == ("SPA-WebShop-v0", "all-0314")
    assert [s.action for s in walk.steps] == ["search[whitening toothpaste]", "click[B07KWJ3Z5M]", "click[Buy Now]"]
    assert walk.steps[1].observation == WEBSHOP_ITEM


def test_spa_rl_exploration_sample_skips_the_in_context_example(tmp_path: Path) -> None:
    [talk] = get_format("spa-rl-explore").parse(dump([SPA_RL_WEBSHOP], tmp_path / "exploration.json"))
    walk = talk.trajectory
    assert len(talk.preamble.head) == 2 and len(talk.preamble.example) == 8  # SPA-RL keeps [0:2] + [10:]
    assert walk.initial_observation == WEBSHOP_SEARCH and len(walk.steps) == 3
    assert (walk.final_reward, walk.won, walk.steps[-1].reward) == (0.75, False, 0.75)
    assert walk.steps[-1].observation.startswith("Thank you for shopping")


def test_webshop_demonstration_sample(tmp_path: Path) -> None:
    path = dump([IL_DEMO], tmp_path / "il_trajs_finalized_images.jsonl")
    assert detect(path) == "webshop-il"
    [walk] = load_trajectories(path, human_goals=["i need a blue lamp", "i need a red lamp"])
    assert (walk.env_id, walk.task_id, walk.task) == ("SPA-WebShop-v0", "all-0001", IL_INSTRUCTION)
    assert walk.initial_observation == IL_STATES[0]
    assert [s.observation for s in walk.steps] == IL_STATES[1:] + [""]
    assert [s.grounded for s in walk.steps] == [True, True, True, True]
    assert load_trajectories(path)[0].task_id == ""  # without human_goals.json the replay finds the goal
    with pytest.raises(ValueError, match="read-only"):
        write_trajectories([walk], tmp_path / "out.jsonl", "webshop-il")
    with pytest.raises(ValueError, match=r"il_trajs_finalized_images.jsonl:1: instruction 'i need a red lamp'"):
        load_trajectories(path, human_goals=["i need a blue lamp"])


# -- round trips of the samples ---------------------------------------------------------------------

@pytest.mark.parametrize("name,sample", [
    ("eto", ETO_WEBSHOP), ("eto", ETO_ALFWORLD), ("agentgym", AGENTGYM_WEBSHOP), ("spa-rl-explore", SPA_RL_WEBSHOP),
])
def test_samples_round_trip_to_identical_records(tmp_path: Path, name: str, sample: dict) -> None:
    # a task's second rollout is numbered 1: SPA-RL's iteration is recomputed from the file's order
    expected = [sample, {**sample, "iteration": 1} if name == "spa-rl-explore" else sample]
    for suffix in (".json", ".jsonl"):
        source = dump([sample, sample], tmp_path / f"in{suffix}")
        assert detect(source) == name
        assert convert(source, tmp_path / f"out{suffix}", to=name) == 2
        assert records(tmp_path / f"out{suffix}") == expected


def test_exploration_to_estimator_data_as_spa_rl_data_org_does(tmp_path: Path) -> None:
    source = dump([SPA_RL_WEBSHOP], tmp_path / "exploration.json")
    convert(source, tmp_path / "estimator.json", to="spa-rl-estimator")
    # data_org: messages [0:2] + [10:], FastChat {from: human/gpt}, the trailing observation dropped
    kept = SPA_RL_WEBSHOP_TURNS[:2] + SPA_RL_WEBSHOP_TURNS[10:-1]
    expected = {"conversations": [{"from": {"user": "human", "assistant": "gpt"}[r], "value": c} for r, c in kept],
                "agent_final_reward": 0.75, "id": 314, "iteration": 0, "success": True}
    assert records(tmp_path / "estimator.json") == [expected]
    assert detect(tmp_path / "estimator.json") == "spa-rl-estimator"
    convert(tmp_path / "estimator.json", tmp_path / "again.json", to="spa-rl-estimator")
    assert records(tmp_path / "again.json") == [expected]


def test_what_the_formats_normalise(tmp_path: Path) -> None:
    alfworld = {**SPA_RL_WEBSHOP, "id": 7, "time": 12.5}
    alfworld.pop("success")
    alfworld["agent_conversations"] = [
        {"role": "user", "content": "Household."}, {"role": "assistant", "content": "OK"},
        {"role": "user", "content": ALFWORLD_INTRO}, {"role": "assistant", "content": "Action: look"}]
    alfworld["game_file"] = "json_2.1.1/train/pick/trial_1/game.tw-pddl"
    alfworld["agent_final_reward"] = 1
    convert(dump([alfworld], tmp_path / "alfworld.json"), tmp_path / "out.json", to="spa-rl-explore")
    [back] = records(tmp_path / "out.json")
    # the task id is the game file (written as id too); "time" is dropped; the reward is a float
    assert back == {**{k: v for k, v in alfworld.items() if k != "time"}, "id": alfworld["game_file"],
                    "agent_final_reward": 1.0}
    [walk] = load_trajectories(tmp_path / "out.json")
    assert (walk.task_id, walk.won) == (alfworld["game_file"], True)
    number_id = {**ETO_ALFWORLD, "id": 17}
    convert(dump([number_id], tmp_path / "eto.json"), tmp_path / "eto_out.json", to="eto")
    assert records(tmp_path / "eto_out.json")[0]["id"] == "17"  # a non-WebShop id is written as a string


def test_loss_flags_follow_the_rule(tmp_path: Path) -> None:
    convert(dump([ETO_WEBSHOP], tmp_path / "eto.json"), tmp_path / "agentgym.json", to="agentgym")
    [record] = records(tmp_path / "agentgym.json")
    assert record["item_id"] == "webshop_314"
    assert [turn["loss"] for turn in record["conversations"]] == [False, False, False, True, False, True, False, True]
    assert [turn["value"] for turn in record["conversations"]][4] == WEBSHOP_RESULTS  # no "Observation:" prefix


# -- spa-gym trajectories through every format --------------------------------------------------------

@pytest.fixture(scope="module")
def walks() -> list[Trajectory]:
    """Expert and noisy-expert episodes of the three envs (invalid actions included)."""
    found = []
    for env_id, split in (("SPA-ALFWorld-v0", "valid_seen"), ("SPA-WebShop-v0", "test"),
                          ("SPA-VirtualHome-v0", "test_seen")):
        env = gym.make(env_id, split=split)
        found += collect_expert_trajectories(env, range(2))
        found += collect_trajectories(env, make_policy("noisy-expert", env, epsilon=0.5), episodes=3, seed=1)
    assert any(not step.grounded for walk in found for step in walk.steps)
    return found


def without_rewards(walk: Trajectory) -> Trajectory:
    bare = copy.deepcopy(walk)
    for step in bare.steps:
        step.reward = 0.0
    bare.final_reward, bare.won = 0.0, False
    return bare


def without_state_keys(walk: Trajectory) -> Trajectory:
    bare = copy.deepcopy(walk)
    for step in bare.steps:
        step.state_key = None
    return bare


def without_last_observation(walk: Trajectory) -> Trajectory:
    bare = copy.deepcopy(walk)
    if bare.steps:
        bare.steps[-1].observation, bare.steps[-1].grounded = "", True
    return bare


@pytest.mark.parametrize("name,lossy", [
    ("spa-gym", None), ("spa-rl-explore", None), ("eto", without_rewards), ("agentgym", without_rewards),
    ("spa-rl-estimator", without_last_observation),
])
def test_spa_gym_trajectories_come_back_equal(tmp_path: Path, walks: list[Trajectory], name: str, lossy) -> None:
    source = tmp_path / "walks.jsonl"
    with TrajectoryWriter(source) as writer:
        for walk in walks:
            writer.write(walk)
    target = tmp_path / f"walks.{name}.json"
    assert convert(source, target, to=name) == len(walks)
    back = load_trajectories(target, format=name)
    if name != "spa-gym":  # no other format has state keys
        walks = [without_state_keys(walk) for walk in walks]
    assert back == [lossy(walk) if lossy else walk for walk in walks]


def test_a_preamble_and_assistant_turns_for_spa_gym_trajectories(tmp_path: Path, walks: list[Trajectory]) -> None:
    preamble = instruction_preamble("Interact with a household to solve a task.")
    written = write_trajectories(walks[:1], tmp_path / "sft.json", "eto", preamble=preamble,
                                 assistant=lambda step: f"Thought: I {step.action}.\nAction: {step.action}")
    assert written == 1
    [record] = records(tmp_path / "sft.json")
    assert record["conversations"][:2] == [human(preamble.head[0][1]), gpt("OK")]
    assert record["conversations"][3]["value"].startswith("Thought: I ")
    [talk] = get_format("eto").parse(tmp_path / "sft.json")
    assert talk.preamble == preamble and talk.trajectory.steps[0].action == walks[0].steps[0].action
    convert(tmp_path / "sft.json", tmp_path / "bare.json", to="eto", preamble=Preamble())
    assert records(tmp_path / "bare.json")[0]["conversations"] == record["conversations"][2:]


@pytest.mark.parametrize("name", ["eto", "agentgym", "spa-rl-explore", "spa-rl-estimator"])
def test_the_record_says_which_action_was_sent(tmp_path: Path, name: str) -> None:
    walk = Trajectory("SPA-ALFWorld-v0", "train-0001", "put a mug in sinkbasin",
                      "You are in a room.\n\nYour task is to: put a mug in sinkbasin.")
    raw = "Thought: the desk.\nAction: 'go to desk 1'."  # spa-gym's agent parser read "go to desk 1"
    walk.add_step("go to desk 1", "You arrive at desk 1.", 0.0, True, raw_output=raw)
    walk.add_step("look", "You are facing the desk 1.", 0.0, True, raw_output="look")
    write_trajectories([walk], tmp_path / "out.json", name)
    [back] = load_trajectories(tmp_path / "out.json")
    assert [step.action for step in back.steps] == ["go to desk 1", "look"]
    assert [step.raw_output for step in back.steps] == [raw + "\nAction: go to desk 1", "look"]


def test_preamble_turns_overrides_the_detection(tmp_path: Path) -> None:
    path = dump([ETO_ALFWORLD], tmp_path / "sft.json")
    [walk] = load_trajectories(path, preamble_turns=6, env_id="SPA-ALFWorld-v0")  # as if 2 steps were an example
    assert walk.initial_observation == "You pick up the pencil 1 from the desk 1."
    assert walk.steps[0].action == "fly to the shelf" and len(walk.steps) == 3
    with pytest.raises(ValueError, match="cannot tell the env"):
        load_trajectories(path, preamble_turns=6)


# -- malformed input ----------------------------------------------------------------------------------

def test_detect_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('\n{"foo": 1}\n')
    with pytest.raises(ValueError, match=r"odd.jsonl:2: a record of no known trajectory format \(keys \['foo'\]\)"):
        detect(path)
    (tmp_path / "empty.json").write_text("[]")
    with pytest.raises(ValueError, match="no records"):
        load_trajectories(tmp_path / "empty.json")
    with pytest.raises(ValueError, match="unknown trajectory format 'csv'"):
        load_trajectories(tmp_path / "empty.json", format="csv")


@pytest.mark.parametrize("text,where,message", [
    ('[\n{"id": 1, "conversations": [{"from": "human", "value": "The task is X."}]},\n{"id": 2,\n'
     ' "conversations": [oops]}\n]', ":4:", "not JSON"),
    ('[{"id": 1, "conversations": []}]', ":1:", "no turn after its 0 preamble turns"),
    ('{"id": 1, "conversations": [{"from": "human", "value": "The task is X."}]}\n{"id": 2\n', ":2:", "not JSON"),
    ('[{"id": 1, "conversations": [{"from": "robot", "value": "hi"}]}]', ":1:", "turn 0 has from 'robot'"),
    ('[{"id": 1, "conversations": [{"from": "human", "value": 3}]}]', ":1:", "field 'value' is 3, not str"),
    ('[{"id": null, "conversations": []}]', ":1:", "field 'id' is None"),
    ('[{"id": 1, "conversations": [{"from": "human", "value": "The task is X."}, {"from": "gpt", "value": "a"},'
     ' {"from": "gpt", "value": "b"}]}]', ":1:", "turn 2 is from 'gpt', expected 'human'"),
    ('[{"id": 1, "conversations": [{"from": "human", "value": "hello"}]}]', ":1:", "cannot tell the env"),
    ('[{"id": 1, "conversations": [{"from": "human", "value": "The task is X."}]} {"id": 2}]', ":1:",
     "expected ',' or ']'"),
])
def test_malformed_records_are_named(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"bad.json{where}.*{message}") as error:
        load_trajectories(path, format="eto")
    assert "\n" not in str(error.value)


def test_malformed_agentgym_and_demonstrations(tmp_path: Path) -> None:
    agentgym = dump([{**AGENTGYM_WEBSHOP, "conversations": [{"from": "human", "loss": "yes", "value": "x"}]}],
                    tmp_path / "a.json")
    with pytest.raises(ValueError, match=r"a.json:2: turn 0's loss is 'yes'"):
        load_trajectories(agentgym)
    demo = dump([{**IL_DEMO, "states": IL_STATES[:1]}], tmp_path / "il.jsonl")
    with pytest.raises(ValueError, match=r"il.jsonl:1: 1 states for 4 actions"):
        load_trajectories(demo)


def test_every_format_is_registered_with_its_keys() -> None:
    assert list(FORMATS) == ["spa-gym", "webshop-il", "spa-rl-explore", "spa-rl-estimator", "agentgym", "eto"]
    assert FORMATS["spa-gym"].recorded == ("observation", "reward", "grounded", "won")
    assert [name for name, format in FORMATS.items() if format.rewarded] == ["spa-gym", "spa-rl-explore",
                                                                            "spa-rl-estimator"]
    assert all(FORMATS[name].write is not None for name in FORMATS if name != "webshop-il")


# -- the trainers take them -----------------------------------------------------------------------------

def test_loaded_trajectories_feed_sft_and_the_estimator(tmp_path: Path) -> None:
    from spa_gym.agents.policy import LLMPolicy
    from spa_gym.agents.sft import sft_examples
    from spa_gym.progress import ProgressEstimator
    from spa_gym.training import tiny_model_path

    experts = collect_expert_trajectories(gym.make("SPA-ALFWorld-v0", split="train"), range(2))
    write_trajectories(experts, tmp_path / "alfworld_sft.json", "eto")
    write_trajectories(experts, tmp_path / "exploration.json", "spa-rl-explore")
    loaded = load_trajectories(tmp_path / "alfworld_sft.json")
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    [example] = sft_examples(policy, loaded[0], "compact")
    trained = [policy.tokenizer.convert_ids_to_tokens(i) for i, t in zip(example.ids, example.trained) if t]
    assert trained == [word for step in experts[0].steps for word in step.action.split() + ["<|end|>"]]
    scored = load_trajectories(tmp_path / "exploration.json")
    assert [walk.final_reward for walk in scored] == [1.0, 1.0]
    scores = ProgressEstimator.from_backbone(tiny_model_path()).score(scored)
    assert [len(s) for s in scores] == [len(walk.steps) for walk in experts]
