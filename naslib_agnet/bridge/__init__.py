"""The NASLib bridge: the AGNet MetaOptimizer, NASLib's names (or stand-ins), lightweight spaces."""
from .naslib_api import NASLIB_AVAILABLE, NASLIB_IMPORT_ERROR, MetaOptimizer, Metric
from .nasbench101_space import NasBench101Space, make_nb101_dataset_api
from .nasbench201_space import NasBench201Space, make_nb201_dataset_api
from .optimizer import AGNet, AGNetJoint, add_agnet_defaults, settings_from_config

__all__ = ["AGNet", "AGNetJoint", "MetaOptimizer", "Metric", "NASLIB_AVAILABLE", "NASLIB_IMPORT_ERROR",
           "NasBench101Space", "add_agnet_defaults",
           "NasBench201Space", "make_nb101_dataset_api", "make_nb201_dataset_api", "settings_from_config"]
