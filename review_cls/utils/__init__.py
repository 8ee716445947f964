"""Small shared helpers: atomic file writes, hardware choices, where a packaged model lives, reading a number setting."""
