"""Pure policy layer: the policy file's schema, tolerance bands, triggers and target models.

Modules: ``config`` (the typed policy file, assembled from one module per section: ``class_config``,
``trigger_config``, ``costs_config``, ``strategy_config``, on the shared ``strict``), ``bands`` (fixed and
volatility-adaptive bands), ``triggers`` (threshold, calendar, hybrid, any / all), ``targets`` (fixed,
core-satellite, beta-neutral, CPPI, delta-target).
"""
