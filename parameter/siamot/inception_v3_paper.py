"""SiamOT on inception_v3, variant 'paper' (``pytracking_siamot.variants``)."""
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.variants import make_parameters


def parameters() -> TrackerParams:
    return make_parameters("inception_v3", "paper")
