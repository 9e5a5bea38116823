"""volseg.zoo: which folders are shipped models, and the one-sentence error for a wrong name."""

import pytest

from volseg import zoo
from volseg.errors import VolsegError


def test_names_lists_complete_model_folders_only(zoo_root):
    assert zoo.names() == ["tiny"]
    assert zoo.run_dir("tiny") == zoo_root / "tiny"
    assert zoo.weights("tiny").is_file() and zoo.config("tiny").is_file()
    assert zoo.card("tiny")["voxel_size_nm"] == [10, 5, 5]


def test_unknown_name_names_the_shipped_ones(zoo_root):
    with pytest.raises(VolsegError, match=r"no shipped model is named 'mito' \(shipped: tiny;"):
        zoo.run_dir("mito")
