"""The SiamOT tracker package (pytracking layout): ``get_tracker_class()`` returns :class:`SiamOT`."""
from pytracking_siamot.tracker.siamot.tracker import SiamOT


def get_tracker_class() -> type[SiamOT]:
    return SiamOT


__all__ = ["SiamOT", "get_tracker_class"]
