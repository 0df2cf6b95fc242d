"""What runs in a rank process: the rank body, the adapter seam, collectives, rank log, model host."""
