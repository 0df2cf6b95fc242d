"""Project-wide pytest setup: nothing but making the checkout importable when it is not installed."""
