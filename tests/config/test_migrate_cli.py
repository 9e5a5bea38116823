"""`volseg config migrate` on the command line: the table, and one-sentence errors (exit 2) for
bad input; `fit`/`config check` on a PyTC file point to migrate."""

from __future__ import annotations

from pathlib import Path

import pytest

from volseg.cli.main import main

PYTC = Path(__file__).resolve().parents[2] / ".." / "shared" / "peers" / "pytc"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("volseg: error: ") and lines[0].endswith("."), err
    return lines[0]


def test_migrate_writes_a_checked_config_and_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lucchi.yaml"
    code, text, _ = _run(["config", "migrate", str(PYTC / "monai_lucchi++.yaml"), str(out)], capsys)
    assert code == 0
    assert "system.inference.num_workers" in text and "dropped" in text
    assert text.strip().endswith("(from the PyTorch Connectomics 2025 schema)")
    code, text, _ = _run(["config", "check", str(out)], capsys)
    assert code == 0 and text.startswith("ok:")


def test_migrate_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.yaml"
    out.write_text("keep me\n")
    code, _, err = _run(["config", "migrate", str(PYTC / "monai_tsai.yaml"), str(out)], capsys)
    assert code == 2 and "--overwrite" in _one_sentence(err)
    assert out.read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("just a string\n", "neither a PyTorch Connectomics nor a volseg config"),
        ("fruit: {apple: 1}\n", "neither a PyTorch Connectomics nor a volseg config"),
        ("model: [unclosed\n", "YAML syntax error"),
        ("optimization:\n  max_epochs: 30\n", "already a volseg config"),
        ("optimization:\n  max_epochs: 3\n", "is a volseg config, not a PyTorch Connectomics"),
    ],
    ids=["not-a-mapping", "unknown-sections", "yaml-error", "volseg-config", "volseg-error"],
)
def test_bad_input_exits_2_with_one_sentence(
    text: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.yaml"
    src.write_text(text)
    code, _, err = _run(["config", "migrate", str(src), str(tmp_path / "out.yaml")], capsys)
    assert code == 2 and words in _one_sentence(err)
    assert not (tmp_path / "out.yaml").exists()


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    code, _, err = _run(["config", "migrate", str(missing), str(tmp_path / "o.yaml")], capsys)
    assert code == 2 and "does not exist" in _one_sentence(err)


@pytest.mark.parametrize("command", [["config", "check"], ["fit"], ["config", "show"]])
@pytest.mark.parametrize(
    "name", ["monai_lucchi++.yaml", "v2-2026/minimal.yaml", "v2-2026/mito_lucchi++.yaml"]
)
def test_pytc_file_points_to_migrate(
    command: list[str], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(PYTC / name)
    code, _, err = _run([*command, path], capsys)
    sentence = _one_sentence(err)
    assert code == 2
    assert "is a PyTorch Connectomics config" in sentence
    assert f"volseg config migrate {path} OUT.yaml" in sentence


def test_volseg_typo_keeps_its_own_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "typo.yaml"
    cfg.write_text("optimization:\n  optimizer:\n    lrr: 0.1\n")
    code, _, err = _run(["config", "check", str(cfg)], capsys)
    assert code == 2 and "did you mean `optimization.optimizer.lr`" in err


def test_no_volseg_config_looks_like_pytc() -> None:
    import yaml

    from volseg.config.migrate import pytc_reason

    repo = Path(__file__).resolve().parents[2]
    shipped = [*repo.glob("configs/*.yaml"), *repo.glob("tutorials/*.yaml")]
    assert shipped
    for path in shipped:
        assert pytc_reason(yaml.safe_load(path.read_text())) is None, path
