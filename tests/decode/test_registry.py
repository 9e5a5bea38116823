import numpy as np
import pytest

from tests.decode.oracle import oracle_maps
from volseg.config.schema_decode import DECODER_KWARGS
from volseg.decode import DECODERS, decode
from volseg.decode.registry import decoder_kwargs
from volseg.errors import VolsegError


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_config_table_matches_decoder_signatures(name):
    """The config accepts exactly the options each decoder takes (nothing silently dropped)."""
    assert set(DECODER_KWARGS[name]) == set(decoder_kwargs(name))


def test_decode_by_name(balls):
    maps = oracle_maps(balls)
    a = decode(maps, "contour_distance", {"min_seed_size": 4})
    b = decode(maps, "cc", {"threshold": 0.5})
    c = decode(maps, "watershed", {"channel": 2, "threshold": 0.5, "mask_threshold": 0.0})
    assert a.max() == 2 and b.max() == 1 and c.max() == 2
    assert set(DECODER_KWARGS) == set(DECODERS)


def test_unknown_option_and_decoder(balls):
    maps = oracle_maps(balls)
    with pytest.raises(VolsegError, match="did you mean `min_seed_size`"):
        decode(maps, "contour_distance", {"min_seed_sise": 4})
    with pytest.raises(VolsegError, match="unknown decoder"):
        decode(maps, "magic", {})
    with pytest.raises(VolsegError, match="channel 5"):
        decode(maps, "cc", {"channel": 5})
    with pytest.raises(VolsegError, match="connectivity"):
        decode(maps, "contour_distance", {"connectivity": 1})
    assert np.all(maps[0] >= 0)
