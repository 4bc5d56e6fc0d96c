"""The AG-Net search loop (ask/tell), free of NASLib and of files."""
from .agnet import AGNetSearch, AGNetSettings, SearchTimings

__all__ = ["AGNetSearch", "AGNetSettings", "SearchTimings"]
