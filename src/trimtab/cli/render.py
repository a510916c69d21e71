"""Rich tables for a rebalance plan: classes, transfers, trades, costs, accounts, positions and notes.

Imported only inside the commands that print tables, so that ``rich`` stays off the start-up path.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from trimtab.domain.plan import AccountReport, ClassReport, Plan, Trade

MIN_WIDTH = 140
"""Columns used when the output is not a terminal (a pipe or a file), so tables are not squeezed."""


def percent(weight: float) -> str:
    """A weight as a percentage with two decimals: ``0.58`` -> ``58.00 %``."""
    return f"{weight * 100:.2f} %"


def money(value: float, currency: str = "") -> str:
    """An amount of money with thousands separators and two decimals."""
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def amount(value: float) -> str:
    """An instrument amount with up to 8 significant digits, without exponent for ordinary sizes."""
    text = f"{value:.8g}"
    if "e" in text and 1e-8 <= abs(value) < 1e15:
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text


def band_marker(report: ClassReport) -> Text:
    """``above band`` / ``below band`` in red for a breached class, ``ok`` otherwise."""
    if not report.breached:
        return Text("ok", style="green")
    side = "above" if report.weight > report.upper else "below"
    return Text(f"{side} band", style="bold red")


def classes_table(plan: Plan) -> Table:
    """One row per class: target, band, weight, breach marker, goal, weight after trading, net exposure."""
    table = Table(title=f"Classes (money in {plan.base_currency})", title_justify="left", expand=False)
    table.add_column("Class", style="bold")
    table.add_column("Target", justify="right")
    table.add_column("Band", justify="right")
    table.add_column("Weight", justify="right")
    table.add_column("Status")
    table.add_column("Goal", justify="right")
    table.add_column("After", justify="right")
    table.add_column("Net exposure", justify="right")
    for report in plan.classes:
        name = f"{report.name} (cash)" if report.cash else report.name
        after = plan.post_trade.get(report.name)
        table.add_row(
            name,
            percent(report.target),
            f"{percent(report.lower)} – {percent(report.upper)}",
            percent(report.weight),
            band_marker(report),
            percent(report.goal),
            percent(after) if after is not None else "",
            money(report.net_exposure),
        )
    return table


def trades_table(plan: Plan) -> Table:
    """One row per trade, in the order the plan lists them."""
    table = Table(title=f"Trades (money in {plan.base_currency})", title_justify="left", expand=False)
    table.add_column("Class", style="bold")
    table.add_column("Side")
    table.add_column("Amount", justify="right")
    table.add_column("Symbol")
    table.add_column("Instrument")
    table.add_column("Notional", justify="right")
    table.add_column("Price", justify="right")
    table.add_column("Venue")
    table.add_column("Why")
    for trade in plan.trades:
        table.add_row(
            trade.class_name,
            _side(trade),
            amount(trade.amount),
            trade.symbol,
            trade.instrument.value + (" (reduce-only)" if trade.reduce_only else ""),
            money(trade.notional),
            money(trade.price),
            trade.venue,
            trade.reason,
        )
    return table


def lots_table(plan: Plan) -> Table:
    """The tax lots each spot sale consumes: when bought, amount, cost, realised gain and its term."""
    table = Table(title=f"Lots sold (money in {plan.base_currency})", title_justify="left", expand=False)
    table.add_column("Symbol")
    table.add_column("Venue")
    table.add_column("Acquired")
    table.add_column("Amount", justify="right")
    table.add_column("Cost", justify="right")
    table.add_column("Price", justify="right")
    table.add_column("Gain", justify="right")
    table.add_column("Term")
    for trade in plan.trades:
        for take in trade.lots:
            table.add_row(
                trade.symbol,
                trade.venue,
                take.acquired.strftime("%Y-%m-%d %H:%M"),
                amount(take.amount),
                money(take.cost),
                money(take.price),
                money(take.gain),
                "long" if take.long_term else "short",
            )
    return table


def transfers_table(plan: Plan) -> Table:
    """One row per transfer between accounts, in the order they are made (before any order)."""
    table = Table(title="Transfers (made before the orders)", title_justify="left", expand=False)
    table.add_column("Asset", style="bold")
    table.add_column("Amount", justify="right")
    table.add_column("From")
    table.add_column("To")
    table.add_column("Why")
    for transfer in plan.transfers:
        table.add_row(
            transfer.asset, amount(transfer.amount), transfer.from_account, transfer.to_account, transfer.reason
        )
    return table


def _account_state(account: AccountReport) -> Text:
    """ok, SHORT (under its margin buffer) or LIQUIDATION (collateral at or below maintenance margin)."""
    if account.at_liquidation:
        return Text("LIQUIDATION", style="bold red reverse")
    return Text("ok", style="green") if account.ok else Text("SHORT", style="bold red")


def accounts_table(plan: Plan) -> Table:
    """One row per derivatives or unified account, after the plan: collateral, margin, free collateral."""
    currency = plan.base_currency
    table = Table(title=f"Accounts after the plan (money in {currency})", title_justify="left", expand=False)
    table.add_column("Account", style="bold")
    table.add_column("Kind")
    table.add_column("Collateral", justify="right")
    table.add_column("Initial margin", justify="right")
    table.add_column("Maintenance", justify="right")
    table.add_column("Free collateral", justify="right")
    table.add_column("Buffer")
    for account in plan.margin.accounts:
        table.add_row(
            account.name,
            f"{account.kind}, {account.margin_mode}",
            money(account.collateral),
            money(account.initial),
            money(account.maintenance),
            money(account.free_collateral),
            _account_state(account),
        )
    return table


def positions_table(plan: Plan) -> Table:
    """One row per derivative position after the plan, with its margin and liquidation price."""
    table = Table(title=f"Positions after the plan (money in {plan.base_currency})", title_justify="left", expand=False)
    table.add_column("Symbol", style="bold")
    table.add_column("Account")
    table.add_column("Amount", justify="right")
    table.add_column("Notional", justify="right")
    table.add_column("Leverage", justify="right")
    table.add_column("Initial", justify="right")
    table.add_column("Maintenance", justify="right")
    table.add_column("Liquidation", justify="right")
    table.add_column("Distance", justify="right")
    for position in plan.positions:
        liquidation = position.liquidation_price
        distance = position.liquidation_distance
        table.add_row(
            position.symbol,
            position.venue,
            amount(position.amount),
            money(position.notional),
            f"{position.leverage:g} x",
            money(position.initial_margin),
            money(position.maintenance_margin),
            money(liquidation) if liquidation is not None and liquidation != float("inf") else "none",
            percent(distance) if distance is not None else "",
        )
    return table


def _side(trade: Trade) -> Text:
    return Text(trade.side.value, style="green" if trade.side.value == "buy" else "red")


def costs_and_margin_table(plan: Plan) -> Table:
    """Expected costs of the trades, and the book's margin now and after them."""
    currency = plan.base_currency
    costs, margin = plan.costs, plan.margin
    after = margin.final
    table = Table(title="Costs and margin", title_justify="left", expand=False)
    table.add_column("What")
    table.add_column("Now", justify="right")
    table.add_column("After the plan", justify="right")
    table.add_row("Fees", "", money(costs.fees, currency))
    table.add_row("Slippage", "", money(costs.slippage, currency))
    table.add_row("Funding per day", "", money(costs.funding_per_day, currency))
    if costs.realised_gain is not None and costs.realised_loss is not None:
        table.add_row("Realised gain", "", money(costs.realised_gain, currency))
        table.add_row("Realised loss", "", money(costs.realised_loss, currency))
    if costs.tax is not None:
        table.add_row("Tax", "", money(costs.tax, currency))
    for label, now_value, after_value in (
        ("Initial margin (all accounts)", margin.initial, after.initial),
        ("Free collateral (all accounts)", margin.free_collateral, after.free_collateral),
        ("Required free collateral", margin.required, after.required),
    ):
        table.add_row(label, money(now_value, currency), money(after_value, currency))
    table.add_row("Gross leverage", f"{margin.gross_leverage:.2f} x", f"{after.gross_leverage:.2f} x")
    table.add_row("Margin check", "", Text("ok", style="green") if margin.ok else Text("FAILS", style="bold red"))
    return table


def plan_renderables(plan: Plan) -> list[RenderableType]:
    """Everything ``trimtab plan --format table`` prints, top to bottom."""
    headline = Text.assemble(
        ("Equity ", "bold"),
        money(plan.equity, plan.base_currency),
        "   ",
        ("Triggered: ", "bold"),
        ("yes", "bold red") if plan.triggered else ("no", "green"),
    )
    parts: list[RenderableType] = [headline]
    if plan.trigger_reason:
        parts.append(Text(f"Trigger: {plan.trigger_reason}"))
    parts.append(classes_table(plan))
    if plan.transfers:
        parts.append(transfers_table(plan))
    if plan.trades:
        parts.append(trades_table(plan))
        if any(trade.lots for trade in plan.trades):
            parts.append(lots_table(plan))
    else:
        parts.append(Text("No trades.", style="italic"))
    parts.append(costs_and_margin_table(plan))
    if plan.margin.accounts:
        parts.append(accounts_table(plan))
    if plan.positions:
        parts.append(positions_table(plan))
    if plan.notes:
        parts.append(Text("Notes", style="bold"))
        parts.extend(Text(f"- {note}") for note in plan.notes)
    return parts


def print_plan(plan: Plan, file: IO[str] | None = None) -> None:
    """Print the plan as tables to ``file`` (standard output by default).

    A terminal keeps its own width; other outputs get at least :data:`MIN_WIDTH` columns.
    """
    console = Console(file=file, highlight=False)
    if not console.is_terminal and console.width < MIN_WIDTH:
        console = Console(file=file, highlight=False, width=MIN_WIDTH)
    console.print(Group(*plan_renderables(plan)))
