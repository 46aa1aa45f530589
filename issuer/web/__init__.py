"""The issuer's web adapters: public endpoints, the W3C VC API, the REST API, the admin UI.

(No Flask import here: the package may be imported by tools that do not serve.)
"""
