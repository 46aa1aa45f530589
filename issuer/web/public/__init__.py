"""What anyone may read: ``documents`` (status lists, the did:web document, scheme pages,
uploaded images) and ``credential_page`` (a credential's id: its public page or the credential).
"""
