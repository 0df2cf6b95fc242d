"""`python -m harness`: the commands, their options and output paths, the launcher mode, the demo."""
