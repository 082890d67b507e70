"""evidencemap: a queryable knowledge graph of a scoping review's evidence."""

__version__ = "0.1.0"
