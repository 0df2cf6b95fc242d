"""Implementations that differ from the reference in legitimate ways, and the profiles each must pass.

A clause forbids only what breaks DDP lifecycle correctness or the documented contract; the self-test
certifies every implementation here on its profiles and fails on any rejection, so a rule that
rejects one of them is a false rejection, not a stricter spec. `slow_gates` (the first gate round of every
rank process takes 1.5 s, longer than the stall floor) is certified by the stall tests, which check
that slowness is not taken for a hang. `variants`
generates variants along the axes of legitimate variation (embargo, alpha ramp, blueprints and
initialisation, module shape, capabilities); `GENERATED` lists each one's adapter and profiles.
"""

from .variants import VARIANTS, impl

GENERATED: dict[str, tuple[str, ...]] = {impl(variant.name): variant.profiles for variant in VARIANTS}

MUST_CERTIFY: dict[str, tuple[str, ...]] = {
    "upstream_fixed": ("core", "resume"),
    "ungated_refused_after_round": ("core", "strict"),
    "ungated_raises_after_early_exits": ("core",),
    "object_list_with_identity": ("core", "strict"),
    "gather_rank0": ("core", "strict"),
    "no_prune": ("core", "strict"),
    "other_result_class": ("core", "strict"),
    "plain_dict_checkpoint": ("resume",),
    "declares_no_ddp_configuration": ("ddp",),
    "fresh_random_init": ("ddp", "resume"),
}
