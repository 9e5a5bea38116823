"""Root options: --version/-V, -h on every command, -v/-q and where log records go."""

import logging

import pytest
import typer

from volseg.cli.main import app, configure_logging, main, version


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag, capsys):
    code, out, _ = run([flag], capsys)
    assert code == 0 and out == f"volseg {version()}\n"
    assert version()[0].isdigit()


def _commands(group: typer.Typer, prefix=()):
    for info in group.registered_commands:
        yield [*prefix, info.name or info.callback.__name__]
    for sub in group.registered_groups:
        yield [*prefix, sub.name]
        yield from _commands(sub.typer_instance, (*prefix, sub.name))


def test_h_is_help_everywhere(capsys):
    commands = [[], *_commands(app)]
    assert len(commands) > 10
    for command in commands:
        code, out, _ = run([*command, "-h"], capsys)
        assert code == 0 and "Usage: volseg" in out, command


@pytest.fixture
def restore_logging():
    logger = logging.getLogger("volseg")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    yield
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]
    from volseg import progress

    progress.set_enabled(None)


@pytest.mark.parametrize(
    "flags, shown",
    [([], {"info", "warning"}), (["-q"], {"warning"}), (["-v"], {"debug", "info", "warning"})],
)
def test_levels(flags, shown, capsys, restore_logging):
    from volseg import progress

    code, _, _ = run([*flags, "config", "-h"], capsys)
    assert code == 0
    log = logging.getLogger("volseg.some.module")
    log.debug("debug")
    log.info("info")
    log.warning("warning")
    err = capsys.readouterr().err
    assert {line.removeprefix("volseg: ") for line in err.splitlines()} == shown
    assert progress.enabled() is (False if "-q" in flags else progress.enabled())


def test_configure_logging_twice_keeps_one_handler(capsys, restore_logging):
    configure_logging()
    configure_logging(verbose=1)
    logging.getLogger("volseg.x").info("once")
    assert capsys.readouterr().err == "volseg: once\n"
