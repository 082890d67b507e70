"""The /sparql engine: the guard, the killable workers and their results (no web framework here)."""
