"""The verification engine (pure), the verifier web app, and the credential model it shares with
the issuer (``verifier.model``). Signing lives in the issuer (``issuer.signing``)."""

from .engine import VerifierPolicy as VerifierPolicy
from .engine import verify_credential as verify_credential
from .inputs import read_credential_input as read_credential_input
from .model.shape import Mode as Mode
from .model.shape import validate_credential_shape as validate_credential_shape
from .result import Check as Check
from .result import CheckResult as CheckResult
from .result import CheckStatus as CheckStatus
from .result import Verdict as Verdict
from .result import VerificationResult as VerificationResult
