"""Candidate scorers, one module each, registered by name (``search.agnet.scorer``).

=============  ==================================================================
name           what ranks the candidates; what the generator is trained against
=============  ==================================================================
spec           (default) MLP on the generator output, trained jointly (spec §3)
encoding       MLP on discrete encodings; generator: reconstruction only (w/o backprop)
ranker         spec training; an MLP ensemble on encodings with an acquisition function
xgb            XGBoost on discrete encodings; generator: reconstruction only (spec §6)
xgb_ranking    xgb, and the rank loss of its scores reaches the generator (spec §6)
naslib         a NASLib predictor (xgb, gp, ngb, ...; needs NASLib); generator: reconstruction only
=============  ==================================================================
"""
from __future__ import annotations

from .base import Candidates, Observations, Scorer, ScorerContext, discrete_encoding
from .encoding import EncodingScorer
from .naslib_predictor import NASLibPredictorScorer
from .ranker import RankerScorer
from .spec import SpecScorer
from .xgb import XGBRankingScorer, XGBScorer

SCORERS: dict[str, type[Scorer]] = {cls.name: cls for cls in (SpecScorer, EncodingScorer, RankerScorer, XGBScorer,
                                                              XGBRankingScorer, NASLibPredictorScorer)}


def scorer_class(name: str) -> type[Scorer]:
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; known: {', '.join(SCORERS)} (search.agnet.scorer)")
    return SCORERS[name]


__all__ = ["SCORERS", "Candidates", "Observations", "Scorer", "ScorerContext", "discrete_encoding", "scorer_class"]
