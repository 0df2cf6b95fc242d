"""Known-bad implementations: each a small adapter over one defect, and the clauses it must fail.

`EXPECTED_FAILURES` maps each module to exactly the clauses the suite must reject it for; the
self-test certifies every one and compares. Each defect is a variation of the reference slot, so a
clause that fails here fails for that defect and nothing else.
"""

EXPECTED_FAILURES: dict[str, set[str]] = {
    "no_sync": {"C1", "C2", "C3", "C4", "S1", "S2", "S3"},
    "allreduce_consensus": {"C2", "C3", "C4", "S1", "S2"},
    "broadcast_from_rank1": {"C2", "C3", "C4"},
    "passed_only": {"C3"},
    "suffix_missing": {"C4"},
    "suffix_misworded": {"C4"},
    "suffix_everywhere": {"C4"},
    "local_applied": {"C1", "C2", "C6", "S3"},
    "early_exit_before_collective": {"S2", "S4"},
    "slot_blind_broadcast": {"S1", "S2"},
    "upstream": {"S1", "S2", "S4"},
    "stalls_at_third_round": {"C6", "S1", "S2"},
    "exits_at_second_round": {"C6", "C7", "S1", "S2"},
}
