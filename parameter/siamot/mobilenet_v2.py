"""SiamOT on mobilenet_v2 with SiamOT's default online training (see ``pytracking_siamot.parameters``)."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("mobilenet_v2", online_training=True)
