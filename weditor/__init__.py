"""weditor: closed-form safety edits for video diffusion checkpoints.

Kept import-light on purpose: `weditor --help` must not pay for importing torch or diffusers.
"""

__version__ = "0.6.0"
