"""Experiments: what turns a config into run folders and run folders into tables.

* :mod:`.config`    NASLib-style run configs: file, defaults (each optimizer declares its own), overrides
* :mod:`.registry`  the optimizers by name (built-in, NASLib's own, plugins) and a run's code fingerprint
* :mod:`.spaces`    the search spaces a config can name, with their datasets
* :mod:`.rundir`    a run folder: lock, what it holds (new / finished / resume / conflict), the recorder
* :mod:`.runner`    one run: build, loop over queries, record
* :mod:`.grid`      a comparison grid (optimizers x datasets x seeds [x tasks]) in worker processes
* :mod:`.report`, :mod:`.hardware_report`  tables and plots of run folders
* :mod:`.pretrain`  pretraining a generator and its model card

The command line (:mod:`naslib_agnet.cli`) only parses arguments and calls these.
"""
