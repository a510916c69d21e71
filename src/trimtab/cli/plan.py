"""``trimtab plan``: valuate a portfolio, check the triggers and print the rebalance plan. Never trades.

Only typer and the standard library are imported at module level; the loaders, the planner and rich are
imported inside the command so that ``trimtab --help`` and the other commands start fast.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trimtab.cli.options import FormatOption
from trimtab.cli.options import output_format as check_format
from trimtab.errors import BadInputError

if TYPE_CHECKING:
    from trimtab.domain.plan import Plan


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to the application."""
    app.command("plan", help="Valuate the portfolio, check the triggers and print the rebalance plan.")(plan_command)


def plan_command(
    portfolio: Annotated[Path, typer.Option("--portfolio", help="Portfolio file (.toml or .json).")],
    policy: Annotated[Path, typer.Option("--policy", help="Policy file (.toml or .json).")],
    market: Annotated[Path, typer.Option("--market", help="Market snapshot file (.json or .toml).")],
    output_format: FormatOption = "text",
    last_rebalance: Annotated[
        str | None,
        typer.Option(
            "--last-rebalance",
            help="ISO time of the last rebalance, for calendar triggers; without it the policy counts as never "
            "rebalanced.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Also write the plan's JSON to this file (atomically).", show_default=False),
    ] = None,
) -> None:
    """Print the rebalance plan for a portfolio, a policy and a market snapshot."""
    check_format(output_format)
    last = parse_time_option("--last-rebalance", last_rebalance) if last_rebalance is not None else None
    if output is not None:
        check_output_path("--output", output)

    from trimtab.loaders import load_plan_inputs
    from trimtab.planner import PlanContext, make_plan

    inputs = load_plan_inputs(portfolio, policy, market)
    if last is not None and last > inputs.market.timestamp:
        raise BadInputError(
            "--last-rebalance",
            "",
            f"{last.isoformat()} is after the snapshot's time {inputs.market.timestamp.isoformat()} ({market.name})",
        )
    plan = make_plan(inputs.portfolio, inputs.market, inputs.policy, PlanContext(last_rebalance=last, lots=inputs.lots))
    document = plan_json(plan)
    if output is not None:
        write_atomically(output, document + "\n")
    if output_format == "json":
        write_json_to_stdout(document)
    else:
        from trimtab.cli.render import print_plan

        _tolerate_narrow_encoding()
        print_plan(plan)


def write_json_to_stdout(document: str) -> None:
    """Write JSON to standard output as UTF-8 (JSON's own encoding), whatever the locale says."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(document + "\n")
    else:
        buffer.write((document + "\n").encode("utf-8"))
        buffer.flush()


def _tolerate_narrow_encoding() -> None:
    """On a terminal that is not UTF-8, print ``?`` for characters it lacks rather than fail."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if not encoding.startswith("utf") and reconfigure is not None:
        reconfigure(errors="replace")


def plan_json(plan: Plan) -> str:
    """The plan in the contract's JSON shape: numbers as floats, NaN and infinities refused.

    Raises
    ------
    ValueError
        If the plan holds a NaN or an infinity (a bug, reported as an internal error).
    """
    return json.dumps(as_floats(plan.to_dict()), indent=2, allow_nan=False, ensure_ascii=False)


def as_floats(value: Any) -> Any:
    """Every int (not bool) in a JSON-like structure as a float, so numbers keep one type in the output."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {key: as_floats(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_floats(item) for item in value]
    return value


def parse_time_option(flag: str, text: str) -> datetime:
    """An ISO 8601 time given on the command line; a time without an offset is UTC.

    Raises
    ------
    BadInputError
        If the text is not such a time.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInputError(flag, "", f"{text!r} is not an ISO 8601 time such as 2026-11-14T00:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_output_path(flag: str, path: Path) -> None:
    """Refuse, before any work, an output path whose folder is missing or that names a folder."""
    if path.is_dir():
        raise BadInputError(flag, "", f"{path.name} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise BadInputError(flag, "", f"the folder {folder} does not exist")


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and a failure leaves any previous file untouched.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
