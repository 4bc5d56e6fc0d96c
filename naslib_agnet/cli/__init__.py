"""The ``naslib-agnet`` command line: parses arguments and calls :mod:`naslib_agnet.experiments`."""
