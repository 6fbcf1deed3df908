"""SiamOT on resnet34 with SiamOT's default online training (see ``pytracking_siamot.parameters``)."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("resnet34", online_training=True)
