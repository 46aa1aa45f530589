"""The issuer service (issue 5): models, lifecycle, status lists, APIs, admin UI."""
