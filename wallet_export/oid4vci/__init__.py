"""OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow (issuer side).

Pure protocol logic (:class:`Oid4vciService`) over an injected store, clock and signing
callbacks; ``wallet_export.oid4vci.web.make_blueprint`` exposes it over HTTP (imported from
there, so this package never imports Flask).
"""

from .errors import OAuthErrorCode as OAuthErrorCode
from .errors import Oid4vciError as Oid4vciError
from .proof import KeyProof as KeyProof
from .proof import verify_key_proof as verify_key_proof
from .service import OfferResult as OfferResult
from .service import Oid4vciService as Oid4vciService
from .settings import PRE_AUTHORIZED_GRANT as PRE_AUTHORIZED_GRANT
from .settings import CredentialConfiguration as CredentialConfiguration
from .settings import CredentialFormat as CredentialFormat
from .settings import IssuerSettings as IssuerSettings
from .settings import jwt_vc_json_configuration as jwt_vc_json_configuration
from .settings import ldp_vc_configuration as ldp_vc_configuration
from .store import InMemoryStore as InMemoryStore
from .store import IssuanceStore as IssuanceStore
from .store import IssueCallback as IssueCallback
from .store import OfferRecord as OfferRecord
from .store import TokenRecord as TokenRecord
