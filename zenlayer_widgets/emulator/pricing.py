"""Prices the emulator quotes (InquiryPriceCreateInstance), as wire ``Price`` objects.

POSTPAID parts are priced by the hour (``unitPrice``, ``chargeUnit`` HOUR); a PREPAID instance by
the month (``originalPrice`` = the month's price times ``period``, ``chargeUnit`` MONTH). There is
no discount: ``discountPrice`` / ``discountUnitPrice`` equal the prices and ``discount`` is 100 (%).
"""

from __future__ import annotations

from typing import Any

from ..api import vocabulary as A
from .records import InstanceTypeRecord
from .seed import BANDWIDTH_PRICE_PER_MBPS_HOUR, DISK_PRICE_PER_GB_HOUR

#: Hours billed for one month of a PREPAID instance.
HOURS_PER_MONTH = 720


def price(hourly: float, charge_type: str = A.POSTPAID, period: int | None = None) -> dict[str, Any]:
    """One ``Price``: by the hour for POSTPAID, for ``period`` months for PREPAID."""
    if charge_type == A.PREPAID:
        total = round(hourly * HOURS_PER_MONTH * (period or 1), 4)
        return {"originalPrice": total, "discountPrice": total, "discount": 100, "unitPrice": None,
                "discountUnitPrice": None, "chargeUnit": "MONTH", "stepPrices": None}
    hourly = round(hourly, 6)
    return {"originalPrice": None, "discountPrice": None, "discount": 100, "unitPrice": hourly,
            "discountUnitPrice": hourly, "chargeUnit": "HOUR", "stepPrices": None}


def launch_prices(offered: InstanceTypeRecord, charge_type: str, period: int | None, internet_charge_type: str,
                  bandwidth: int, system_disk_size: int, data_disk_sizes: list[int]) -> dict[str, Any]:
    """InquiryPriceCreateInstance's answer fields: instance, bandwidth, EIP, system and data disks."""
    bandwidth_hourly = bandwidth * BANDWIDTH_PRICE_PER_MBPS_HOUR if internet_charge_type == "ByBandwidth" else 0.0
    answer: dict[str, Any] = {
        "instancePrice": price(offered.hourly_price, charge_type, period),
        "bandwidthPrice": [price(bandwidth_hourly)],
        "eipPrice": price(0.0),
        "systemDiskPrice": price(system_disk_size * DISK_PRICE_PER_GB_HOUR, charge_type, period),
    }
    if data_disk_sizes:
        answer["dataDiskPrice"] = price(sum(data_disk_sizes) * DISK_PRICE_PER_GB_HOUR, charge_type, period)
    return answer
