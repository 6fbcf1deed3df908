"""Apply pretrained weights to a full ImageNet network before it is cut for SiamFC."""
from __future__ import annotations

from typing import Any

from torch import nn

from ltr.models.backbone.weights import apply_state_dict, load_state_dict_file, torchvision_state_dict


def load_torchvision(net: nn.Module, weights: Any, pretrained: bool, weights_path: str | None,
                     download: bool = True) -> None:
    """Load ImageNet weights into a full torchvision model (strict: every key must match).

    ``weights_path`` wins over ``pretrained``; with neither the network keeps its random init.
    """
    if weights_path is not None:
        state, source = load_state_dict_file(weights_path), weights_path
    elif pretrained:
        state, source = torchvision_state_dict(weights, download=download), f"the ImageNet file of {weights}"
    else:
        return
    apply_state_dict(net, state, source, type(net).__name__)
