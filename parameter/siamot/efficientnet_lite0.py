"""SiamOT on efficientnet_lite0 with the paper's online training (Sections 2.3-2.5)."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("efficientnet_lite0", online_training=True)
