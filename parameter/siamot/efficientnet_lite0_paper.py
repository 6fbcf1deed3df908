"""SiamOT on efficientnet_lite0, variant 'paper' (``pytracking_siamot.variants``)."""
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.variants import make_parameters


def parameters() -> TrackerParams:
    return make_parameters("efficientnet_lite0", "paper")
