"""The parent's worlds: spawned ranks, the warm pool, a launcher's world, and how a stall is told."""
