"""The securing suites, behind a registry and an allow-list."""
