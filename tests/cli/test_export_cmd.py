"""``volseg export``: a package from the command line; bad input is one sentence, exit 2."""

import importlib
import zipfile

import pytest

from tests.export.fixtures import block_network, make_run, synthetic_image, vesicle_config

cli = importlib.import_module("volseg.cli.main")
pytest.importorskip("bioimageio.core")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export_cmd")
    return make_run(tmp / "run", vesicle_config(synthetic_image(tmp / "img.zarr")))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    tried = block_network(monkeypatch, tmp_path / "bioimageio-cache")
    yield tried
    assert not tried, f"a test reached for the network: {tried}"


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def one_line_error(code, err):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("volseg: error: "), err
    return lines[0]


def test_export_check_and_overwrite(run_dir, tmp_path, capsys, offline):
    out = tmp_path / "model.zip"
    code, stdout, err = run(["export", str(run_dir), str(out), "--format", "bioimageio",
                             "--check"], capsys)  # fmt: skip
    assert code == 0, err
    assert f"wrote {out}: BioImage Model Zoo package" in stdout
    assert "pytorch_state_dict: passed" in stdout and "torchscript: passed" in stdout
    before = out.read_bytes()
    argv = ["export", str(run_dir / "checkpoints" / "best.pt"), str(out), "--format", "bioimageio"]
    assert "already exists; use --overwrite" in one_line_error(*run(argv, capsys)[::2])
    assert out.read_bytes() == before  # nothing damaged
    code, _, err = run([*argv, "--overwrite"], capsys)
    assert code == 0, err
    assert zipfile.is_zipfile(out) and not list(tmp_path.glob(".model.zip*"))  # no leftovers


def test_run_without_best_checkpoint(tmp_path, capsys):
    run_dir = make_run(tmp_path / "run", vesicle_config("unused.zarr"), best=False)
    argv = ["export", str(run_dir), str(tmp_path / "m.zip"), "--format", "bioimageio"]
    message = one_line_error(*run(argv, capsys)[::2])
    assert f"run directory {run_dir} has no checkpoints/best.pt" in message
    assert not (tmp_path / "m.zip").exists()


@pytest.mark.parametrize(("extra", "out_name", "expected"), [
    (["--format", "onnx"], "m.zip", "unknown export format 'onnx'; volseg exports: bioimageio."),
    (["--format", "bioimageio"], "m.tar", "a BioImage Model Zoo package is a zip file"),
    (["--format", "bioimageio", "--card", "no.yaml"], "m.zip", "model card no.yaml does not exist"),
])  # fmt: skip
def test_bad_options(run_dir, tmp_path, capsys, extra, out_name, expected):
    argv = ["export", str(run_dir), str(tmp_path / out_name), *extra]
    assert expected in one_line_error(*run(argv, capsys)[::2])


def test_overwrite_replaces_only_a_volseg_package(run_dir, tmp_path, capsys):
    foreign = tmp_path / "theirs.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("rdf.yaml", "type: model\nname: someone else's\n")
    argv = ["export", str(run_dir), str(foreign), "--format", "bioimageio", "--overwrite"]
    assert "is not a package volseg exported" in one_line_error(*run(argv, capsys)[::2])
    argv = ["export", str(run_dir), str(run_dir / "checkpoints" / "best.pt"), "--format",
            "bioimageio"]  # fmt: skip
    assert "a zip file" in one_line_error(*run(argv, capsys)[::2])


def test_bad_card_value_is_one_sentence(run_dir, tmp_path, capsys):
    card = tmp_path / "card.yaml"
    card.write_text("name: 'bad/name'\nlicense: not-a-licence\n")
    argv = ["export", str(run_dir), str(tmp_path / "m.zip"), "--format", "bioimageio",
            "--card", str(card)]  # fmt: skip
    message = one_line_error(*run(argv, capsys)[::2])
    assert f"model card {card}: `name`: 'bad/name' is not restricted to" in message
    assert not (tmp_path / "m.zip").exists()
