"""Web Server service: the WBM. Today a live dashboard of the park; the WBM issue grows it."""
