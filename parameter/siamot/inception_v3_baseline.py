"""SiamFC baseline on inception_v3: the same tracker with online training off."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("inception_v3", online_training=False)
