"""What weditor reads and writes: checkpoints, recipes, pair files, pickles, links, the output workspace."""
