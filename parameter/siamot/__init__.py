"""SiamOT parameter files, three per backbone of ``ltr.models.backbone.BACKBONES``, one per variant of
``pytracking_siamot.variants.VARIANTS`` (which owns the names and what each variant changes):

- ``<backbone>``: SiamOT's default online training (the best measured variant);
- ``<backbone>_paper``: the paper's online training exactly as written (``variants.PAPER_ONLINE``);
- ``<backbone>_baseline``: the same SiamFC tracker without online training.

Each module's ``parameters()`` returns a fresh object; :func:`parameter_names` lists the modules.
"""
from __future__ import annotations

import pkgutil
from pathlib import Path


def parameter_names() -> list[str]:
    """The parameter files of this folder (module names without a leading ``_``), sorted.

    The one listing of SiamOT's parameter names: the registry and the pytracking shims use it.
    """
    return sorted(info.name for info in pkgutil.iter_modules([str(Path(__file__).parent)])
                  if not info.ispkg and not info.name.startswith("_"))
