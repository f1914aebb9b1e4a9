"""The any-hour check: the clock-sensitive tests run with the wall clock of every process pinned."""
