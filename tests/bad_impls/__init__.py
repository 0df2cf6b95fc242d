"""Known-bad implementations: each a small adapter over one defect, and the clauses it must fail.

`EXPECTED_FAILURES` maps each module to exactly the clauses the suite must reject (`fail`) it for;
the self-test certifies every one and compares. The other clauses must pass, or be `incomplete` where
the defect stops ranks before calls those clauses read. Each defect is a variation of the reference
slot, so a clause that fails here fails for that defect and nothing else. Only the checkpointing
defects declare the `checkpoint` capability (`common.adapter_for`); the others leave `resume` unclaimed.
"""

EXPECTED_FAILURES: dict[str, set[str]] = {
    # C9: with no round at all, a survivor of a dead rank 0 returns its own decision, one rank 0 never made.
    "no_sync": {"C1", "C2", "C3", "C4", "C9", "S1", "S2", "S3", "D1", "D2", "D3"},
    # S5 for allreduce_consensus, broadcast_from_rank1, slot_blind_broadcast, upstream and chunked_framing: a
    # collective of their own, whose gloo error reaches the caller unwrapped, naming a socket, not the call.
    "allreduce_consensus": {"C2", "C3", "C4", "S1", "S2", "S5"},
    "broadcast_from_rank1": {"C2", "C3", "C4", "S5"},
    "passed_only": {"C3"},
    "suffix_missing": {"C4"},
    "suffix_misworded": {"C4"},
    "suffix_everywhere": {"C4"},
    "local_applied": {"C1", "C2", "C6", "S3", "D1", "D2", "D3"},
    "local_when_explicit": {"C1", "C2", "C6", "S3", "D1", "D2", "D3"},
    "local_backward": {"C1", "C2", "C6", "S3"},
    "local_alpha": {"D2", "D3"},
    "early_exit_before_collective": {"S2", "S4"},
    "slot_blind_broadcast": {"S1", "S2", "S5"},
    "identity_slot_only": {"S1", "S2", "S5"},  # S5: its error names the narrowed call, without the target
    "identity_slot_target": {"S2"},
    "identity_process_counter": {"S1", "S5"},  # S5: its error names slot '*', not the slot
    "upstream": {"S1", "S2", "S4", "S5"},  # S5: upstream's broadcast_object_list, unwrapped
    "truncated_message": {"C3"},
    "chunked_framing": {"C3", "S5"},  # S5: its own header broadcast, unwrapped
    "mangled_unicode": {"C3"},
    "checks_as_set": {"C3"},
    "score_float32": {"C3"},
    "frame_as_words": {"S4"},
    "stalls_at_third_round": {"C6"},
    "exits_at_second_round": {"C6"},
    "swallows_dead_peer": {"C9"},
    "crashes_on_dead_peer": {"C9", "S5"},
    "unnamed_collective_error": {"S5"},
    "checkpoint_drops_blend": {"R1", "R2", "R5"},
    "seed_not_rebuilt": {"R1", "R2", "R5"},
    "seed_rebuilt_after_load": {"R1"},
    "enum_in_extra_state": {"R4"},
    "rank_in_checkpoint": {"R3", "R5"},
    "blueprint_in_process": {"R5"},
    "unused_while_training": {"D1"},
    "skips_zero_alpha": {"D1"},
    "drifting_buffer": {"D2"},
}

# The DDP configurations (`harness.records.ddp_configs`) under which each implementation's module must fail to
# train (D1, D2); under the others it must train in every stage. Implementations not listed train under all.
EXPECTED_CONFIGURATION_FAILURES: dict[str, set[str]] = {
    "unused_while_training": {"defaults"},
    "skips_zero_alpha": {"defaults", "static_graph"},
    "drifting_buffer": {"no_broadcast_buffers"},
}

# The world sizes the self-test certifies each at: 1 for the single-process clause (C5) and 2, where each defect
# above shows with one rank beside rank 0; every clause of every profile runs at each. `WORLD_SIZES_FOR` adds a
# third rank where a defect's consequence shows only there (found by certifying each at both). Legitimate
# implementations, where a clause failing at one size alone would be a false rejection, are certified at 1 to 4.
WORLD_SIZES: tuple[int, ...] = (1, 2)
WORLD_SIZES_FOR: dict[str, tuple[int, ...]] = {
    "local_backward": (1, 2, 3),  # its hang after the ranks part (C6) shows only with three ranks
}
