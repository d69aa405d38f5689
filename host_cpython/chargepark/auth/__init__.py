"""WBM login: the manual's roles, users with argon2 hashes, server-side sessions, CSRF, login rate limit,
and the role matrix that decides every route of the WBM API."""
