"""What users ask for, as data: study lists, questions, the gap map, networks."""
