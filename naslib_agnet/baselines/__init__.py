"""NASLib-equivalent black-box baselines (RS, RE, LS) for use when NASLib is not installed.

They follow NASLib Develop's ``naslib/optimizers/discrete/{rs,re,ls}`` algorithms and
``MetaOptimizer`` contract (one query per ``new_epoch``), sample with numpy's global
RNG (seeded by ``np.random.seed``, as NASLib's Trainer does) and run on NASLib's search
spaces as well as on :class:`~naslib_agnet.bridge.NasBench201Space`.
"""
from ..bridge.blackbox import BlackBoxOptimizer
from .bananas import Bananas
from .ls import LocalSearch
from .npenas import Npenas
from .re import RegularizedEvolution
from .rs import RandomSearch

__all__ = ["Bananas", "BlackBoxOptimizer", "LocalSearch", "Npenas", "RandomSearch", "RegularizedEvolution"]
