# title: Release push locks
# description: >
#   Used by `kg publish --to` at the end of every push (and when it gives way to another one) to
#   delete its own lock, and by the lock holder to delete expired locks of crashed pushes.
# parameters:
#   lock: {type: iri, required: true, description: the lock graph}
#   push: {type: iri, required: true, description: a push whose lock is deleted}
#   lockedAt: {type: iri, required: true, description: the property giving when a push took the lock}
DELETE { GRAPH ?lock { ?push ?lockedAt ?since } }
WHERE {
  VALUES (?lock ?push ?lockedAt) {}
  GRAPH ?lock { ?push ?lockedAt ?since }
}
