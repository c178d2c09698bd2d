"""Outputs of a release: reports, pages, the static site, linked-data layout, badges."""
