"""Building a run from its options: the journal, the venue (paper or ccxt), the feed, the clock, the loop.

Only this package (and the command line) knows concrete adapters; the loop speaks to the Venue port. The
parts: ``run_setup`` (the options and the wired run), ``setup_checks`` (what is checked before the journal
opens), ``live_venues`` (keys, accounts and ccxt connections), ``paper_run`` (prices, clock and simulated
venue of a paper run) and ``paper_events`` (the paper venue's settlements and liquidations, journaled).
"""

from __future__ import annotations

from trimtab.app.clocks import wall_clock
from trimtab.app.live_venues import build_live_book, build_live_venue, live_accounts
from trimtab.app.loop import RunLoop
from trimtab.app.paper_events import liquidation_recorder, settlement_recorder
from trimtab.app.paper_run import build_paper_run, held_symbols
from trimtab.app.run_setup import REPLAY_AT, Run, RunSetup, wall_sleep
from trimtab.app.setup_checks import check_setup, refuse_paper_inputs
from trimtab.domain.accounts import Account
from trimtab.policy.config import Policy
from trimtab.storage import Store
from trimtab.storage.state import StateStore
from trimtab.venues.ports import Venue

__all__ = [
    "REPLAY_AT",
    "Run",
    "RunSetup",
    "build_run",
    "check_setup",
    "held_symbols",
    "liquidation_recorder",
    "live_accounts",
    "settlement_recorder",
]


def build_run(policy: Policy, store: Store, setup: RunSetup) -> Run:
    """Wire a run of ``policy`` on ``store``.

    Raises
    ------
    BadInputError
        For inconsistent options (paper inputs on a live venue, a missing ``--portfolio`` on a first paper
        run, unreadable files), naming the flag or file.
    """
    state = StateStore(store)
    if setup.venue == "paper":
        return build_paper_run(policy, store, state, setup)
    refuse_paper_inputs((("--market", setup.market), ("--data", setup.data)))
    accounts: tuple[Account, ...] = ()
    if setup.portfolio is not None:
        accounts, connections = live_accounts(setup.portfolio)
        venue: Venue = build_live_book(setup, connections)
    else:
        venue = build_live_venue(setup)
    loop = RunLoop(
        venue,
        store,
        policy,
        setup.config,
        clock=wall_clock,
        sleep=wall_sleep(setup),
        dry_run=setup.dry_run,
        approver=setup.approver,
        stopping=setup.stopping,
        accounts=accounts,
        venue_liquidation=True,  # the exchange's own liquidation price takes precedence
    )
    return Run(loop, venue, None, wall_clock, state)
