"""The verification engine (pure), the verifier web app and the CLI."""
