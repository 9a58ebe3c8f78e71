"""The pure core: decision state and the decider. Imports nothing of the rest but contracts."""
