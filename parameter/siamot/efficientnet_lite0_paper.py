"""SiamOT on efficientnet_lite0 with the paper's online training exactly as written (``PAPER_ONLINE``)."""
from pytracking_siamot.parameters import PAPER_ONLINE, TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("efficientnet_lite0", online_training=True, **PAPER_ONLINE)
