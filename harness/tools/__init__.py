"""Tools that are not the product: the benchmark."""
