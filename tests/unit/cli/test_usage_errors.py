"""Usage errors (unknown or missing option, bad value) exit 2 with one line on stderr naming the flag."""

from __future__ import annotations

import pytest

from trimtab.cli.main import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "--bogus"], "trimtab plan: No such option: --bogus (see 'trimtab plan --help')"),
        (["plan", "--portfolio", "p.toml"], "trimtab plan: Missing option '--policy'. (see 'trimtab plan --help')"),
        (["backtest", "--policy", "p.toml", "--capital", "abc"], "Invalid value for '--capital'"),
        (["run", "--policy", "p.toml", "--cycles", "0"], "Invalid value for '--cycles'"),
        (["data", "list", "extra"], "trimtab data list: Got unexpected extra argument(s) (extra)"),
        (["no-such-command"], "No such command 'no-such-command'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["trimtab"])
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert expected in lines[0]


@pytest.mark.parametrize("argv", [[], ["data"]])
def test_a_bare_group_prints_its_help_and_no_error_line(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["trimtab"])
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert "Usage:" in captured.out
    assert captured.err == ""
