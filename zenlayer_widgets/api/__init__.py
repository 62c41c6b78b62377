"""The Zenlayer Cloud API v2 (vm) client: signed, typed, sync and async.

::

    from zenlayer_widgets.api import ZenlayerClient

    with ZenlayerClient() as client:      # credentials from ZENLAYER_* or ~/.zenlayer/credentials
        instances = client.list_instances(zone_id="FRA-A")

See :mod:`.client` for the operations, :mod:`.errors` for the error tree.
"""

from .auth import BearerAuth, ZC2Auth
from .client import AsyncZenlayerClient, ZenlayerClient
from .credentials import Credentials
from .errors import (
    APIError,
    AuthError,
    CertificateError,
    ConnectError,
    CredentialsError,
    InvalidParameter,
    InvalidState,
    NotFound,
    OutcomeUnknown,
    QuotaExceeded,
    RateLimited,
    ReadOnlyError,
    ServerError,
    TransportError,
    UnexpectedResponse,
    ZenlayerError,
)
from .models import (
    CreateImageResult,
    CreateInstancesResult,
    Image,
    ImageQuota,
    Instance,
    InstancePrice,
    InstanceStatus,
    InstanceTypeInfo,
    Page,
    Price,
    Zone,
)
from .retry import RetryPolicy

__all__ = [
    "APIError",
    "AsyncZenlayerClient",
    "AuthError",
    "BearerAuth",
    "CertificateError",
    "ConnectError",
    "CreateImageResult",
    "CreateInstancesResult",
    "Credentials",
    "CredentialsError",
    "Image",
    "ImageQuota",
    "Instance",
    "InstancePrice",
    "InstanceStatus",
    "InstanceTypeInfo",
    "InvalidParameter",
    "InvalidState",
    "NotFound",
    "OutcomeUnknown",
    "Page",
    "Price",
    "QuotaExceeded",
    "ReadOnlyError",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnexpectedResponse",
    "ZC2Auth",
    "ZenlayerClient",
    "ZenlayerError",
    "Zone",
]
