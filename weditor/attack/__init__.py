"""`weditor attack`: red-team a patched model with prompt searches (docs/attack.md).

objective  the patched denoiser's loss toward latents of the concept, differentiable in the text
search     the token search (typeable prompts) and the embedding search (an upper bound)
run        targets, searches, judging, attack.json
report     attack.html
"""
