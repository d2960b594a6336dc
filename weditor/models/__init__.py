"""A loaded pipeline: loading (every command's), running and tapping it, preflight checks, inspection."""
