"""The AG-Net search loop (ask/tell), free of NASLib and of files."""
from .agnet import AGNetSearch, AGNetSettings, SearchTimings
from .hardware import HARDWARE_SETTINGS, HardwareAGNetSearch, hardware_settings

__all__ = ["AGNetSearch", "AGNetSettings", "SearchTimings", "HARDWARE_SETTINGS", "HardwareAGNetSearch",
           "hardware_settings"]
