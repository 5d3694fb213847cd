"""One thin module per verb: parse flags, call the core, hand the result to `output`."""
