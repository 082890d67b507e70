"""The evidence model read through the query gate: vocabulary, facets, studies, reviews, flow, claims."""
