# title: Empty staging graphs
# description: >
#   Used by `kg publish --to` after a failed push, to remove what it uploaded into its staging
#   graphs (best effort); the target graphs are not touched.
# parameters:
#   staging: {type: iri, required: true, description: a staging graph of the failed push}
DELETE { GRAPH ?staging { ?s ?p ?o } }
WHERE {
  VALUES ?staging {}
  GRAPH ?staging { ?s ?p ?o }
}
