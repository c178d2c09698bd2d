# title: Take the push lock
# description: >
#   Used by `kg publish --to` before it stages anything: records that this push wants the store,
#   with the time on the SERVER's clock (`NOW()`), in the lock graph. It is one committed request
#   of its own; `push-locks.rq` then tells which push holds the lock (the oldest one not expired).
# parameters:
#   lock: {type: iri, required: true, description: "the lock graph, {base}graph/push-lock"}
#   push: {type: iri, required: true, description: the IRI of this push}
#   lockedAt: {type: iri, required: true, description: the property giving when a push took the lock}
INSERT { GRAPH ?lock { ?push ?lockedAt ?now } }
WHERE {
  VALUES (?lock ?push ?lockedAt) {}
  BIND (NOW() AS ?now)
}
