"""The credential model that issuing and verifying share: the shape rules of VC Data Model 2.0,
the Bitstring Status List codec, and the builder of the documents certvc issues.

A ring of its own (``tests/test_architecture.py``): it imports ``contexts``, ``keys`` and
``verifier.errors`` only, so the issuer builds and checks credentials with exactly the rules the
verifier applies, without depending on the verification engine.
"""
