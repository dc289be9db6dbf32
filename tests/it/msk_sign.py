"""Prints the MSK IAM token of aws-msk-iam-sasl-signer-python for fixed credentials, region
and signing time: argv = region, epoch seconds, access key, secret key, [session token]."""
import datetime
import sys

import botocore.auth
from botocore.credentials import CredentialProvider, Credentials

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

region, epoch, access_key, secret_key = sys.argv[1:5]
token = sys.argv[5] if len(sys.argv) > 5 else None
frozen = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).replace(tzinfo=None)

if hasattr(botocore.auth, "get_current_datetime"):
    botocore.auth.get_current_datetime = lambda *args, **kwargs: frozen
else:
    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return frozen
    botocore.auth.datetime.datetime = FrozenDatetime


class Fixed(CredentialProvider):
    METHOD = "fixed"

    def load(self):
        return Credentials(access_key, secret_key, token)


signed, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(region, Fixed())
print(signed)
print(expiry_ms)
