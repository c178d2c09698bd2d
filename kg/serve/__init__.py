"""`kg serve`: a read-only SPARQL endpoint and linked-data pages over a built release."""
