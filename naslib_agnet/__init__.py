"""naslib-agnet: AG-Net (Lukasik, Jung, Keuper, ECCV 2022) as a NASLib plugin.

Layout (each a package of its own, with a narrow interface):

* :mod:`naslib_agnet.model`      the AG-Net networks (generator, predictor, losses)
* :mod:`naslib_agnet.spaces`     search-space codecs (architecture <-> generator graph)
* :mod:`naslib_agnet.benchmarks` benchmark oracles read from a data directory
* :mod:`naslib_agnet.search`     the AG-Net search loop as an ask/tell object
* :mod:`naslib_agnet.bridge`     NASLib's MetaOptimizer contract and a NASLib-free stand-in
* :mod:`naslib_agnet.experiments` configs, run folders, runs, grids and reports
* :mod:`naslib_agnet.cli`        the ``naslib-agnet`` command line (argument parsing only)
"""
__version__ = "0.4.0"
