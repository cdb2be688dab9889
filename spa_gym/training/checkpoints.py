"""Saving and loading a transformers model (or its LoRA adapter), its tokenizer, a small head and a config.

Shared by :class:`~.estimator.ProgressEstimator` and :class:`~spa_gym.agents.policy.LLMPolicy`, whose
folders hold: the model in ``<weights_dir>/`` (with the tokenizer) or, with LoRA, the adapter in
``adapter/`` (the base model is re-read from ``base_model_path``), the head as safetensors, and a
JSON config with a format version.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_config(folder / "c.json", {"lora": False}, version=1)
    >>> read_config(folder / "c.json", version=1, what="test folder")["lora"]
    False
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoTokenizer

ADAPTER_DIR = "adapter"


class CheckpointError(ValueError):
    """A saved folder that cannot be loaded; the message names it and says what to do."""


class NotSavedError(FileNotFoundError):
    """A folder without the config file that marks a saved model."""


@contextmanager
def loading(folder: Path, what: str) -> Iterator[None]:
    """Turn any failure while reading ``folder`` into one :class:`CheckpointError` naming it (a folder
    that holds no saved model at all stays a :class:`NotSavedError`)."""
    try:
        yield
    except (CheckpointError, NotSavedError):
        raise
    except Exception as error:
        raise CheckpointError(f"cannot load the {what} at {folder}: {_reason(error)} (save it again, or delete it "
                              "and retrain)") from error


def _reason(error: BaseException) -> str:
    """The first line of an error's message (its type when it has none)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def write_config(path: Path, config: dict[str, Any], version: int) -> None:
    path.write_text(json.dumps({"format_version": version, **config}, indent=2))


def read_config(path: Path, version: int, what: str) -> dict[str, Any]:
    """The config at ``path``; :class:`NotSavedError` / ``ValueError`` saying what is wrong."""
    if not path.is_file():
        raise NotSavedError(f"not a saved {what} (no {path.name}): {path.parent}")
    config = json.loads(path.read_text())
    if config.get("format_version") != version:
        raise ValueError(f"{path}: unsupported format_version {config.get('format_version')!r}")
    return config


def save_atomically(folder: Path, write: Callable[[Path], None]) -> None:
    """Fill a fresh folder with ``write(tmp)``, then swap it in for ``folder``.

    A crash at any point leaves the old folder or the new one whole (:func:`recover_folder` finishes
    an interrupted swap), never weights of one step beside the state of another.
    """
    tmp, old = folder.with_name(folder.name + ".tmp"), folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def save_with_state(folder: Path, model: Any, state: dict[str, Any], state_file: str) -> None:
    """Save ``model`` (its ``save_pretrained``) and a training ``state`` (``torch.save``) into
    ``folder`` as one atomic unit (:func:`save_atomically`)."""

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        torch.save(state, tmp / state_file)

    save_atomically(folder, write)


def load_state(path: Path) -> dict[str, Any]:
    """A training state written by :func:`save_with_state`, read as data only: ``weights_only``, so a
    pickle planted in a run folder cannot execute code; an unreadable file raises one clear error."""
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:
        raise ValueError(f"cannot read the training state {path}: {_reason(error)}; delete its folder to train "
                         "that stage afresh") from error


def recover_folder(folder: Path) -> Path:
    """``folder``, put back from its ``.old`` copy if a crash stopped :func:`save_atomically` mid-swap."""
    old = folder.with_name(folder.name + ".old")
    if not folder.exists() and old.exists():
        old.rename(folder)
    return folder


def is_lora(model: nn.Module) -> bool:
    return hasattr(model, "peft_config")


def save_model(model: nn.Module, tokenizer: Any, folder: Path, weights_dir: str) -> None:
    """The model (or only its LoRA adapter) and the tokenizer."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder / (ADAPTER_DIR if is_lora(model) else weights_dir))
    tokenizer.save_pretrained(folder / weights_dir)


def load_model(folder: Path, weights_dir: str, auto_class: Any, lora: bool,
               base_model_path: str | None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` saved by :func:`save_model`; a LoRA adapter is put back on its base model."""
    tokenizer = AutoTokenizer.from_pretrained(folder / weights_dir)
    if not lora:
        return auto_class.from_pretrained(folder / weights_dir), tokenizer
    from peft import PeftModel

    base = auto_class.from_pretrained(base_model_path)
    return PeftModel.from_pretrained(base, folder / ADAPTER_DIR, is_trainable=True), tokenizer


def save_head(head: nn.Module, path: Path) -> None:
    save_file({k: v.detach().contiguous().cpu() for k, v in head.state_dict().items()}, path)


def load_head(head: nn.Module, path: Path) -> None:
    head.load_state_dict(load_file(path))
