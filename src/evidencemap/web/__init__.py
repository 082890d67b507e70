"""The HTTP layer: FastAPI app, SPARQL endpoint, REST API, pages and linked-data resolution."""
