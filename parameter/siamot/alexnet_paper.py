"""SiamOT on alexnet, variant 'paper' (``pytracking_siamot.variants``)."""
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.variants import make_parameters


def parameters() -> TrackerParams:
    return make_parameters("alexnet", "paper")
