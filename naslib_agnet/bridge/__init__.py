"""The NASLib bridge: the AGNet MetaOptimizer, NASLib's names (or stand-ins), lightweight spaces."""
from .naslib_api import NASLIB_AVAILABLE, MetaOptimizer, Metric
from .nasbench101_space import NasBench101Space, make_nb101_dataset_api
from .nasbench201_space import NasBench201Space, make_nb201_dataset_api
from .optimizer import AGNet, AGNetJoint, settings_from_config

__all__ = ["AGNet", "AGNetJoint", "MetaOptimizer", "Metric", "NASLIB_AVAILABLE", "NasBench101Space",
           "NasBench201Space", "make_nb101_dataset_api", "make_nb201_dataset_api", "settings_from_config"]
