"""What a newcomer installs from: the package metadata, the licence, the Makefile, Docker, compose, systemd.

Docker cannot build images on the machine the tests run on, so the image build itself is not exercised
here (the test says so when it skips); what can be checked without it is: the compose file parses, every
trimtab service runs a command and options that exist, the Dockerfile copies files that exist, and the
systemd units pass ``systemd-analyze verify`` with commands that exist.
"""

from __future__ import annotations

import configparser
import fnmatch
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from trimtab.cli.settings import load_settings
from trimtab.testing.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TEST_TOOLS = ("pytest", "hypothesis", "ruff", "mypy", "import-linter", "schemathesis", "playwright", "ray")


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0].lower()


def test_runtime_dependencies_hold_no_test_or_cluster_tool_and_no_pandas() -> None:
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert "pandas" not in runtime
    assert not runtime & set(TEST_TOOLS)
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {_name(r) for r in extras["cluster"]} == {"ray"}
    assert {_name(r) for r in extras["browser"]} == {"playwright"}
    assert {"pytest", "hypothesis", "ruff", "mypy"} <= {_name(r) for r in extras["dev"]}


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    # A runtime dependency nothing imports only makes `make demo` and `pipx install` heavier (pyarrow once was
    # one, before the market-data cache became memory-mapped numpy). Every distribution here is imported under
    # its own name.
    imported: set[str] = set()
    for source in (ROOT / "src" / "trimtab").rglob("*.py"):
        imported |= set(re.findall(r"^\s*(?:from|import)\s+([a-z_0-9]+)", source.read_text(), flags=re.M))
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert "pyarrow" not in runtime
    assert runtime - imported == set()


def test_make_demo_installs_the_runtime_only_and_make_test_the_extras() -> None:
    dry = subprocess.run(
        ["make", "-n", "-B", "demo", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    installs = [line for line in dry.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs[0].endswith("install --quiet -e ."), installs
    assert "'.[dev,browser,cluster]'" in installs[1]
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("exec make test")


def test_the_licence_file_is_the_licence_pyproject_declares() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"  # an SPDX expression
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_data_file_of_the_package_is_shipped() -> None:
    """A ``pip install .`` (``pipx install``) carries templates, scripts, migrations and starter files."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["trimtab"]
    package = ROOT / "src" / "trimtab"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file() and p.suffix != ".py"]
    data = [p for p in data if "__pycache__" not in p]
    assert any(p.startswith("cli/starter/") for p in data)
    globs = [*patterns, *(g.replace("**/", "") for g in patterns)]
    unshipped = [p for p in data if not any(fnmatch.fnmatch(p, g) for g in globs)]
    assert unshipped == []
    assert PYPROJECT["project"]["scripts"] == {"trimtab": "trimtab.cli.main:main"}


def _help(command: str) -> str:
    done = run_cli(command, "--help")
    assert done.returncode == 0, f"trimtab {command}: {done.stderr}"
    return done.stdout


def _check_trimtab_args(args: list[str]) -> None:
    """The command exists and every --option it is given appears in its help."""
    command, *rest = args
    text = _help(command)
    for option in (a for a in rest if a.startswith("--")):
        assert option in text, f"trimtab {command} has no {option}"


def test_the_compose_file_runs_existing_commands_on_postgresql() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "run", "serve"}
    assert services["db"]["image"].startswith("postgres:")
    for name in ("run", "serve"):
        service = services[name]
        assert service["build"] == "."
        _check_trimtab_args(service["command"])
        state = service["environment"]["TRIMTAB__RUN__STATE"]
        assert state.startswith("postgresql+psycopg://") and "@db:5432/" in state
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        # The environment it sets is valid configuration (${VAR:-default} as compose would fill it).
        filled = {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in service["environment"].items()}
        load_settings(None, filled)
    serve = services["serve"]["command"]
    assert "0.0.0.0" in serve and "--allow-remote" in serve  # reachable inside the network: token on every request
    assert services["serve"]["ports"] == ["127.0.0.1:8765:8765"]  # published on the host's loopback only


def test_the_dockerfile_copies_files_that_exist_and_runs_trimtab() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, flags=re.MULTILINE):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    assert 'ENTRYPOINT ["trimtab"]' in text
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    assert {".venv/", ".git/", "data/", "*.db"} <= set(ignored)  # no environment, history, data or journal
    assert not {"src/", "pyproject.toml", "README.md", "LICENSE"} & set(ignored)
    assert "'.[postgres]'" in text  # the compose journal needs the PostgreSQL driver
    daemon = shutil.which("docker") and subprocess.run(["docker", "info"], check=False, capture_output=True)
    if not daemon or daemon.returncode != 0:
        pytest.skip("no Docker daemon on this machine: the image build is not exercised here")
    build = ["docker", "build", "-q", "-t", "trimtab:test", str(ROOT)]
    built = subprocess.run(build, check=False, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr


@pytest.mark.parametrize("unit", ["trimtab.service", "trimtab-serve.service"])
def test_the_systemd_units_verify_and_start_existing_commands(unit: str, tmp_path: Path) -> None:
    path = ROOT / "deploy" / "systemd" / unit
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(path)
    exec_start = shlex.split(parser["Service"]["ExecStart"])
    assert exec_start[0].endswith("/trimtab")
    _check_trimtab_args(exec_start[1:])
    assert parser["Service"]["RestartPreventExitStatus"] == "2"
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # systemd wants the program to exist: point the copy at a real trimtab.
    fake = tmp_path / "trimtab"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    copy = tmp_path / unit
    copy.write_text(path.read_text().replace(exec_start[0], str(fake)))
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith(unit)] == []
