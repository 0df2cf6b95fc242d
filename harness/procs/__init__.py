"""Process hygiene: nothing a rank starts outlives its world, nothing a run writes outlives the run."""
