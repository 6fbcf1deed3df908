"""SiamFC baseline on vgg19: the same tracker with online training off."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("vgg19", online_training=False)
