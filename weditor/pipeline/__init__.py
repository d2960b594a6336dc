"""`weditor patch`'s stages: load, collect, fit, edit, measure, write, verify, card; the self-tuning around them."""
