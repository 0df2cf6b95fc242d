"""The scenario builders of the clauses: hand-written families and generated misalignments."""
