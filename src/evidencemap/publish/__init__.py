"""Linked data: dereferenceable descriptions, the dataset description, dumps, ontology documentation."""
