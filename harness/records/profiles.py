"""The profiles a certification selects its clauses by: one list for the registry, the command line and the API."""

from __future__ import annotations

from typing import Literal

Profile = Literal["core", "strict", "ddp", "resume"]
CORE: Profile = "core"
STRICT: Profile = "strict"
DDP: Profile = "ddp"
RESUME: Profile = "resume"
PROFILES: tuple[Profile, ...] = (CORE, STRICT, DDP, RESUME)
ALL = "all"
"""Every profile's clauses at once: what `--profile` and `certify(profile=...)` take by default."""
CHOICES = (*PROFILES, ALL)
TRAINING: frozenset[str] = frozenset({DDP, RESUME, ALL})
"""The selections whose scenarios train a host network (a run of any other preloads no model's imports)."""
