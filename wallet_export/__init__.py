"""Wallet export (issue 7): QR, PDF certificate, baked badges, OpenID4VCI offers."""
