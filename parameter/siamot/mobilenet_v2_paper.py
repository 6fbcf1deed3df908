"""SiamOT on mobilenet_v2, variant 'paper' (``pytracking_siamot.variants``)."""
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.variants import make_parameters


def parameters() -> TrackerParams:
    return make_parameters("mobilenet_v2", "paper")
