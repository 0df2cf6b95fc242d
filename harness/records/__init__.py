"""The records both sides of a pipe share, and the facts they are built from: no process of their own."""
