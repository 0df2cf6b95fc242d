"""The specification suite: numbered clauses, checked by scenarios, against any adapter."""
