import pytest

from volseg.errors import VolsegError
from volseg.io.ome import level_of_array, multiscale_attrs, multiscales_of, read_level


def _ms(axes, datasets, **extra):
    return {"multiscales": [{"version": "0.4", "axes": axes, "datasets": datasets, **extra}]}


AXES_UM = [
    {"name": "c", "type": "channel"},
    {"name": "z", "type": "space", "unit": "micrometer"},
    {"name": "y", "type": "space", "unit": "micrometer"},
    {"name": "x", "type": "space", "unit": "micrometer"},
]


def _ds(path, scale, translation=None):
    transforms = [{"type": "scale", "scale": scale}]
    if translation is not None:
        transforms.append({"type": "translation", "translation": translation})
    return {"path": path, "coordinateTransformations": transforms}


def test_v04_level_in_nanometres_with_global_transform():
    attrs = _ms(
        AXES_UM,
        [_ds("0", [1, 0.04, 0.004, 0.004], [0, 0.1, 0.0, 0.0]), _ds("1", [1, 0.04, 0.008, 0.008])],
        coordinateTransformations=[
            {"type": "scale", "scale": [1, 1, 2, 2]},
            {"type": "translation", "translation": [0, 1, 0, 0]},
        ],
    )
    level = read_level(attrs, level=0, where="x.zarr")
    assert level.path == "0" and level.n_levels == 2 and level.source == "ome"
    assert level.voxel_size == pytest.approx((40.0, 8.0, 8.0))
    # (dataset translation * global scale + global translation), in nm
    assert level.offset == pytest.approx((1100.0, 0.0, 0.0))
    assert read_level(attrs, level=1, where="x.zarr").voxel_size == pytest.approx((40, 16, 16))
    assert level_of_array(attrs, "1", where="x").path == "1"
    assert level_of_array(attrs, "nope", where="x") is None


def test_v05_nests_under_ome_and_round_trips_what_volseg_writes():
    ome = multiscale_attrs(
        name="raw",
        channels=True,
        scales=[(30.0, 4.0, 4.0), (30.0, 8.0, 8.0)],
        offsets=[(0.0, 0.0, 0.0), (0.0, 2.0, 2.0)],
        method="mean",
    )
    assert ome["version"] == "0.5" and ome["multiscales"][0]["axes"][0]["type"] == "channel"
    attrs = {"ome": ome}
    assert multiscales_of(attrs) == ome["multiscales"]
    level = read_level(attrs, level=1, where="x")
    assert (level.path, level.voxel_size, level.offset) == ("s1", (30.0, 8.0, 8.0), (0.0, 2.0, 2.0))


def test_missing_units_are_flagged():
    axes = [{"name": n, "type": "space"} for n in "zyx"]
    level = read_level(_ms(axes, [_ds("0", [2, 3, 4])]), level=0, where="x")
    assert level.voxel_size == (2.0, 3.0, 4.0) and "assumed nanometer" in level.source


def test_not_ome_returns_none():
    assert read_level({"other": 1}, level=0, where="x") is None


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        (_ms(AXES_UM, [_ds("0", [1, 1, 1, 1])]), "level 3 does not exist in x; it has levels 0..0"),
        (_ms(AXES_UM, [_ds("0", [1, 1, 1])]), "do not match its 4 axes"),
        (
            _ms(AXES_UM, [{"path": "0", "coordinateTransformations": [{"type": "path"}]}]),
            "unsupported coordinateTransformation 'path'",
        ),
        (
            _ms(
                [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}], [_ds("0", [1, 1])]
            ),
            "three spatial axes",
        ),
        (_ms(AXES_UM, [_ds("0", [1, 0, 1, 1])]), "must be positive"),
        (
            _ms(
                [{"name": n, "type": "space", "unit": "furlong"} for n in "zyx"],
                [_ds("0", [1, 1, 1])],
            ),
            "unknown length unit 'furlong'",
        ),
    ],
)
def test_malformed_metadata(attrs, message):
    level = 3 if "level 3" in message else 0
    with pytest.raises(VolsegError, match=message):
        read_level(attrs, level=level, where="x")
