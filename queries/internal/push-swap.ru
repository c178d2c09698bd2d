# title: Swap a pushed release into place
# description: >
#   Used by `kg publish --to`, sent as one SPARQL Update request so that a store which runs a
#   request in one transaction (Oxigraph, Jena TDB2, GraphDB) goes from the previous release to
#   the new one at once. It empties the graphs the previous release record lists, empties the
#   target graphs, copies each staging graph onto its target graph (the release record graph
#   included) and empties the staging graphs.
# parameters:
#   record: {type: iri, required: true, description: the release record graph, which lists the release's graphs}
#   staging: {type: iri, required: true, description: a staging graph holding one graph of the new release}
#   target: {type: iri, required: true, description: the graph that staging graph replaces}
PREFIX void: <http://rdfs.org/ns/void#>

# the graphs of the previous release, as its record lists them (also those the new one lacks)
DELETE { GRAPH ?old { ?s ?p ?o } }
WHERE {
  VALUES ?record {}
  GRAPH ?record { ?record void:subset ?old }
  GRAPH ?old { ?s ?p ?o }
} ;

# the target graphs, the record among them
DELETE { GRAPH ?target { ?s ?p ?o } }
WHERE {
  VALUES (?staging ?target) {}
  GRAPH ?target { ?s ?p ?o }
} ;

INSERT { GRAPH ?target { ?s ?p ?o } }
WHERE {
  VALUES (?staging ?target) {}
  GRAPH ?staging { ?s ?p ?o }
} ;

DELETE { GRAPH ?staging { ?s ?p ?o } }
WHERE {
  VALUES (?staging ?target) {}
  GRAPH ?staging { ?s ?p ?o }
}
