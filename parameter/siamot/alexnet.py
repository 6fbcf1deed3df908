"""SiamOT on alexnet with SiamOT's default online training (see ``pytracking_siamot.parameters``)."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("alexnet", online_training=True)
