"""Processes the benchmarks start: contenders on our side, the floor, the sandbox."""
