"""The NASLib bridge: the AGNet MetaOptimizer, NASLib's names (or stand-ins), lightweight spaces."""
from .naslib_api import NASLIB_AVAILABLE, MetaOptimizer, Metric
from .nasbench201_space import NasBench201Space, make_nb201_dataset_api
from .optimizer import AGNet, AGNetJoint, settings_from_config

__all__ = ["AGNet", "AGNetJoint", "MetaOptimizer", "Metric", "NASLIB_AVAILABLE", "NasBench201Space",
           "make_nb201_dataset_api", "settings_from_config"]
