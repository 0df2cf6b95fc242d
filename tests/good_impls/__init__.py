"""Correct implementations that are hard on the harness in other ways: certified, whatever their pace."""
