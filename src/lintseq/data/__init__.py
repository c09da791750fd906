"""Data every workflow reads: evaluation benchmarks (``benchmarks``), instruction/program pairs
mined from installed code (``corpus``) and their decontamination (``decontam``)."""
