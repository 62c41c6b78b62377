"""The Zenlayer VM API's vocabulary, written once: service, versions, actions, limits, state names.

The client (:mod:`._wire`, :mod:`._flows`, :mod:`._actions`), the product rules and core, and the
emulator all import these names; a new action or state goes here first. Plain constants only:
this module imports nothing.
"""

from __future__ import annotations

# ---------------------------------------------------------------- service and versions
SERVICE = "vm"
#: The one endpoint: every action is ``POST {base_url}/api/v2/vm`` with ``X-ZC-Action``.
SERVICE_PATH = "/api/v2/vm"
VERSION_2023 = "2023-03-13"
VERSION_2026 = "2026-04-01"
API_VERSIONS = (VERSION_2023, VERSION_2026)
#: What the client sends unless told otherwise.
DEFAULT_API_VERSION = VERSION_2023

# ---------------------------------------------------------------------------- actions
DESCRIBE_ZONES = "DescribeZones"
DESCRIBE_INSTANCES = "DescribeInstances"
DESCRIBE_INSTANCES_STATUS = "DescribeInstancesStatus"
START_INSTANCES = "StartInstances"
STOP_INSTANCES = "StopInstances"
DESCRIBE_IMAGES = "DescribeImages"
DESCRIBE_IMAGE_QUOTA = "DescribeImageQuota"
CREATE_IMAGE = "CreateImage"
DELETE_IMAGES = "DeleteImages"
MODIFY_IMAGES_ATTRIBUTES = "ModifyImagesAttributes"
#: The singular image read (the Go SDK declares it; its answer shape is our reading, docs/emulator.md).
DESCRIBE_IMAGE = "DescribeImage"
#: Launching, restoring and verifying (reference section 9).
CREATE_INSTANCES = "CreateInstances"
DESCRIBE_ZONE_INSTANCE_CONFIG_INFOS = "DescribeZoneInstanceConfigInfos"
INQUIRY_PRICE_CREATE_INSTANCE = "InquiryPriceCreateInstance"
RESET_INSTANCE = "ResetInstance"
TERMINATE_INSTANCE = "TerminateInstance"
RELEASE_INSTANCES = "ReleaseInstances"
#: Every action the client calls and the emulator answers.
ACTIONS = (
    DESCRIBE_ZONES,
    DESCRIBE_INSTANCES,
    DESCRIBE_INSTANCES_STATUS,
    START_INSTANCES,
    STOP_INSTANCES,
    DESCRIBE_IMAGES,
    DESCRIBE_IMAGE_QUOTA,
    CREATE_IMAGE,
    DELETE_IMAGES,
    MODIFY_IMAGES_ATTRIBUTES,
    DESCRIBE_IMAGE,
    CREATE_INSTANCES,
    DESCRIBE_ZONE_INSTANCE_CONFIG_INFOS,
    INQUIRY_PRICE_CREATE_INSTANCE,
    RESET_INSTANCE,
    TERMINATE_INSTANCE,
    RELEASE_INSTANCES,
)
#: Read-only mode (``connect(read_only=True)``): an action whose name starts with one of these only reads;
#: every other action (the list below, and any action not named here) is refused before it is sent.
READ_ACTION_PREFIXES = ("Describe", "Inquiry")
#: The write actions of the vm API (those the client calls and those it may ``call`` by name).
WRITE_ACTIONS = (
    CREATE_IMAGE,
    DELETE_IMAGES,
    MODIFY_IMAGES_ATTRIBUTES,
    START_INSTANCES,
    STOP_INSTANCES,
    "CreateInstances",
    "ResetInstance",
    "TerminateInstance",
    "ReleaseInstances",
    "CreateVpc",
)

# ----------------------------------------------------------------------------- limits
#: At most this many ids (or other array items) per request.
MAX_IDS_PER_REQUEST = 100
#: The largest ``pageSize`` the API accepts, and the default when none is sent.
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 20

# ------------------------------------------------------------------------ state names
#: Instance power states (DescribeInstances / DescribeInstancesStatus).
RUNNING = "RUNNING"
STOPPED = "STOPPED"
STOPPING = "STOPPING"
BOOTING = "BOOTING"
IMAGING = "IMAGING"
PENDING = "PENDING"
DEPLOYING = "DEPLOYING"
CREATE_FAILED = "CREATE_FAILED"
REBUILDING = "REBUILDING"
RELEASING = "RELEASING"
#: In the recycle bin (TerminateInstance): RECYCLING while it moves there, then RECYCLE.
RECYCLING = "RECYCLING"
RECYCLE = "RECYCLE"
RECYCLED_STATES = frozenset({RECYCLE, RECYCLING})
#: States an instance leaves by itself (the form keeps polling while one is shown).
TRANSITIONAL_INSTANCE_STATES = frozenset(
    {PENDING, DEPLOYING, STOPPING, BOOTING, RELEASING, REBUILDING, RECYCLING, "REBOOT", IMAGING}
)
#: Image states (DescribeImages) and image types.
CREATING = "CREATING"
AVAILABLE = "AVAILABLE"
UNAVAILABLE = "UNAVAILABLE"
CUSTOM_IMAGE = "CUSTOM_IMAGE"
PUBLIC_IMAGE = "PUBLIC_IMAGE"

# ----------------------------------------------------------------- launching instances
#: instanceChargeType: pay by the hour from creation, or pre-paid by the month.
POSTPAID = "POSTPAID"
PREPAID = "PREPAID"
INSTANCE_CHARGE_TYPES = (POSTPAID, PREPAID)
#: internetChargeType values (the CLI's enum).
INTERNET_CHARGE_TYPES = ("ByBandwidth", "ByTrafficPackage", "ByClusterBandwidth95", "BandwidthCluster")
#: Price.chargeUnit values.
CHARGE_UNITS = ("HOUR", "DAY", "MONTH")
#: CreateInstances: instanceCount from 1 to this; instanceName at most 64 characters; initScript at most 32 KB.
MAX_INSTANCE_COUNT = 100
MAX_INSTANCE_NAME_LENGTH = 64
MAX_INIT_SCRIPT_BYTES = 32 * 1024
#: Tags: at most 20 per instance or filter; keys (and values) 1-64 characters.
MAX_TAGS = 20
MAX_TAG_LENGTH = 64
