"""NPENAS (NASLib's ``Npenas``, Wei et al. 2020): BANANAS' machinery with a pure-exploitation acquisition.

NASLib's ``Npenas`` is the ``Bananas`` loop with two things fixed: the acquisition is
``exploit_only`` (the ensemble's mean prediction) whatever ``acq_fn_type`` says, and the
candidates are always mutations of the ``num_arches_to_mutate`` best architectures
(it reads no ``acq_fn_optimization``). It reads the same ``k``, ``num_init``,
``num_ensemble``, ``predictor_type``, ``num_arches_to_mutate``, ``max_mutations`` and
``num_candidates`` keys, so the defaults here are the same as :class:`Bananas`'.
"""
from __future__ import annotations

from .bananas import Bananas


class Npenas(Bananas):
    """``optimizer: npenas``: :class:`Bananas` with ``acq_fn_type="exploit_only"`` and mutation-only candidates."""

    fixed_acq_fn_type = "exploit_only"
    fixed_acq_fn_optimization = "mutation"
