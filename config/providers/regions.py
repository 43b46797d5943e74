"""Cloud region names by metro, so a manifest naming an AWS region can match an Azure or Google
region in the same place (data residency is about where the bytes are, not whose cloud)."""

from __future__ import annotations

METROS: dict[str, tuple[str, ...]] = {
    "virginia": ("us-east-1", "eastus", "eastus2", "us-east4"),
    "ohio": ("us-east-2",),
    "south-carolina": ("us-east1",),
    "iowa": ("us-central1", "centralus"),
    "oregon": ("us-west-2", "us-west1", "westus2"),
    "california": ("us-west-1",),
    "arizona": ("westus3",),
    "montreal": ("ca-central-1", "canadacentral", "northamerica-northeast1"),
    "sao-paulo": ("sa-east-1", "brazilsouth", "southamerica-east1"),
    "dublin": ("eu-west-1", "northeurope"),
    "london": ("eu-west-2", "uksouth", "europe-west2"),
    "paris": ("eu-west-3", "francecentral"),
    "frankfurt": ("eu-central-1", "germanywestcentral", "europe-west3"),
    "netherlands": ("westeurope", "europe-west4"),
    "belgium": ("europe-west1",),
    "stockholm": ("eu-north-1", "swedencentral"),
    "finland": ("europe-north1",),
    "mumbai": ("ap-south-1", "centralindia", "asia-south1"),
    "singapore": ("ap-southeast-1", "southeastasia", "asia-southeast1"),
    "sydney": ("ap-southeast-2", "australiaeast", "australia-southeast1"),
    "tokyo": ("ap-northeast-1", "japaneast", "asia-northeast1"),
    "seoul": ("ap-northeast-2", "koreacentral", "asia-northeast3"),
}
METRO_OF: dict[str, str] = {
    region: metro for metro, regions in METROS.items() for region in regions
}
ANYWHERE = "*"


def metro(region: str) -> str | None:
    """The metro of a region name, or the name itself when it is a metro; None if unknown."""
    if region in METROS:
        return region
    return METRO_OF.get(region)


def known(region: str) -> bool:
    return metro(region) is not None
