"""Search-space codecs: the only place that knows a space's encoding."""
from .base import ArchKey, Codec, edge_index, sample_discrete
from .nasbench101 import NasBench101Codec
from .darts import DartsCodec
from .nasbench201 import NasBench201Codec

_CODECS = {"nasbench101": NasBench101Codec, "nasbench201": NasBench201Codec, "nasbench301": DartsCodec}


def get_codec(name: str) -> Codec:
    """The codec of a search space by its NASLib name (``get_type()``), e.g. ``"nasbench201"``."""
    try:
        return _CODECS[name]()
    except KeyError:
        raise ValueError(f"unknown search space {name!r}; AG-Net supports: {sorted(_CODECS)}") from None


__all__ = ["ArchKey", "Codec", "DartsCodec", "NasBench101Codec", "NasBench201Codec", "edge_index", "get_codec", "sample_discrete"]
