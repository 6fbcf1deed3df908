"""SiamFC baseline on efficientnet_lite0: the same tracker with online training off."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("efficientnet_lite0", online_training=False)
