"""What a run writes: the certificate, its coverage and DDP tables, evidence, timelines, SPEC.md."""
