"""SiamOT parameter files, three per backbone:

- ``<backbone>``: SiamOT's default online training (the best measured variant);
- ``<backbone>_paper``: the paper's online training exactly as written (``PAPER_ONLINE``);
- ``<backbone>_baseline``: the same SiamFC tracker without online training.

``PARAMETER_NAMES`` lists them; each module's ``parameters()`` returns a fresh object.
"""
from __future__ import annotations

BACKBONE_NAMES: tuple[str, ...] = ("alexnet", "vgg19", "resnet34", "inception_v3", "mobilenet_v2",
                                   "efficientnet_lite0")
VARIANT_SUFFIXES: tuple[str, ...] = ("", "_paper", "_baseline")
PARAMETER_NAMES: tuple[str, ...] = tuple(f"{name}{suffix}" for suffix in VARIANT_SUFFIXES for name in BACKBONE_NAMES)
