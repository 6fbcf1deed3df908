"""SiamFC baseline on resnet34: the same tracker with online training off."""
from pytracking_siamot.parameters import TrackerParams, make_parameters


def parameters() -> TrackerParams:
    return make_parameters("resnet34", online_training=False)
