"""The maths of an edit, free of models and files: moments, directions, read-outs, closed-form edits."""
