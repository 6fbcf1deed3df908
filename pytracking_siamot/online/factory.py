"""Which :class:`~pytracking_siamot.online.method.OnlineMethod` a parameter set runs (the one owner)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pytracking_siamot.online.adapter import AdapterMethod
from pytracking_siamot.online.backbone import BackboneFineTuning
from pytracking_siamot.online.method import NoOnlineTraining, OnlineMethod

if TYPE_CHECKING:
    from pytracking_siamot.parameters import SiamOTParams

#: ``SiamOTParams.online_method`` -> the class that implements it.
ONLINE_METHODS: dict[str, type[OnlineMethod]] = {"adapter": AdapterMethod, "backbone": BackboneFineTuning}


def online_method_class(settings: SiamOTParams) -> type[OnlineMethod]:
    """The method ``settings`` ask for: :class:`NoOnlineTraining` when ``online_training`` is off
    (the SiamFC baseline), else ``ONLINE_METHODS[settings.online_method]``."""
    if not settings.online_training:
        return NoOnlineTraining
    try:
        return ONLINE_METHODS[settings.online_method]
    except KeyError:
        raise ValueError(f"online_method={settings.online_method!r} has no implementation; "
                         f"known: {', '.join(sorted(ONLINE_METHODS))}") from None
