"""The AG-Net networks: generator, predictor, losses, and the MLP ensemble that ranks candidates.
Knows shapes, not search spaces."""
from .ensemble import MLPEnsemble
from .generator import Generator, GeneratorConfig, TwoInputGenerator, build_generator, split_output
from .losses import rank_weights, reconstruction_loss, search_loss
from .predictor import ConditionedMLPPredictor, MLPPredictor
from .pretrain import PretrainSettings, pretrain

__all__ = ["MLPEnsemble", "Generator", "GeneratorConfig", "TwoInputGenerator", "build_generator", "ConditionedMLPPredictor", "MLPPredictor", "rank_weights",
           "reconstruction_loss", "search_loss", "split_output", "PretrainSettings", "pretrain"]
