"""The graph layer: files into a store, the one query gate over it, RDF terms and formats, validation."""
