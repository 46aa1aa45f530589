"""The verifier's web adapter: the page, the API views, rate limiting (Flask lives only here)."""
