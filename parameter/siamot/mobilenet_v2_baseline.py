"""SiamFC baseline on mobilenet_v2: the same tracker with online training off."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("mobilenet_v2", online_training=False)
