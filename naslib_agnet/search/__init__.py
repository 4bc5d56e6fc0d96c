"""The AG-Net search loop (ask/tell), free of NASLib and of files.

The loop and its settings are imported on first use (they load torch), so that the NumPy-only
arithmetic of :mod:`.multiobjective` (constraints, Pareto fronts, hypervolume) is cheap to import,
e.g. for ``naslib-agnet report``."""
import importlib

_LAZY = {"AGNetSearch": ".agnet", "SearchTimings": ".agnet", "AGNetSettings": ".settings", "LoopSettings": ".settings",
         "HardwareSettings": ".settings", "HARDWARE_LOOP": ".settings", "settings_from_tree": ".settings",
         "HardwareAGNetSearch": ".hardware", "hardware_settings": ".hardware"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
