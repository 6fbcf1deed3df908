"""SiamOT parameter files: one per backbone with the paper's online training, and a
``<backbone>_baseline`` variant of each without it (the paper's "with vs without OT" pair).

``PARAMETER_NAMES`` lists them; each module's ``parameters()`` returns a fresh object.
"""
from __future__ import annotations

BACKBONE_NAMES: tuple[str, ...] = ("alexnet", "vgg19", "resnet34", "inception_v3", "mobilenet_v2",
                                   "efficientnet_lite0")
PARAMETER_NAMES: tuple[str, ...] = BACKBONE_NAMES + tuple(f"{name}_baseline" for name in BACKBONE_NAMES)
