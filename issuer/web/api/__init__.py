"""The JSON APIs: ``api_v1`` (REST, ``/api/v1``), ``vc_api`` (the W3C VC API), ``wallet_api``
(the wallet export under ``/api/v1``), ``openapi`` (their description) and ``jsonio`` (reading
JSON bodies and query parameters).
"""
