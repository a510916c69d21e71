"""trimtab: keeps a crypto portfolio on its target allocation.

Data flows one way: feed -> valuation -> policy (triggers, targets) -> planner -> execution -> venues.
The core (``domain``, ``valuation``, ``policy``, ``planner``) is pure: no I/O, no clock, no adapters.
"""

__version__ = "0.1.0"
