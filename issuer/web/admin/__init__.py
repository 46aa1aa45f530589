"""The admin UI (``/admin/``): ``views`` (login, certifications, the CSV import, the audit
log), ``image_uploads`` (scheme badges and the body's logo), ``wallet_actions`` (exports,
offers, the public page), ``import_jobs`` (the CSV import's background thread) and ``staff``
(staff accounts).
"""
