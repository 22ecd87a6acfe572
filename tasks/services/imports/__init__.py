"""Pieces of the plan import: recognising a plan and aligning its measures (``match``), describing a revision
(``diff``). The public entry points stay in ``tasks.services.importing``."""
