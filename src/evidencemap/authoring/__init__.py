"""Authoring a map: a new map's scaffold (``evidencemap new``) and the import of a review team's extraction sheet
(``evidencemap import-csv``). Web-free; reads the vocabulary through the model and writes Turtle with rdflib.

- :mod:`~evidencemap.authoring.sheets`    CSV and XLSX extraction sheets -> rows of cells
- :mod:`~evidencemap.authoring.columns`   which column holds what (the default layout, or a mapping file)
- :mod:`~evidencemap.authoring.matching`  cell values -> SKOS concepts (labels and synonyms), with suggestions
- :mod:`~evidencemap.authoring.records`   the RDF of the review, its studies and their findings
- :mod:`~evidencemap.authoring.scaffold`  ``new``: the review's record and commented templates of the other nodes
- :mod:`~evidencemap.authoring.importer`  ``import-csv``: a sheet -> Turtle files and an import report
"""
