"""WBM pages (static files served by the Web Server service)."""
