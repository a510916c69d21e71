"""The ``trimtab`` command line. Each command lives in its own module and imports heavy libraries lazily,
so that ``trimtab plan`` starts fast."""
