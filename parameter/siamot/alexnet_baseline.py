"""SiamFC baseline on alexnet: the same tracker with online training off."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("alexnet", online_training=False)
