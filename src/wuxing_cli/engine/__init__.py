"""The pure scoring engine: criteria and polars frames in, polars frames out; no I/O."""
