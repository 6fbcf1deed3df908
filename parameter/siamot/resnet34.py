"""SiamOT on resnet34 with the paper's online training (Sections 2.3-2.5)."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("resnet34", online_training=True)
