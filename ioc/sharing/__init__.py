"""IOC-to-IOC sharing: the agreements that say what a peer IOC may read from this city (`agreements`) and the
one gate every open-data and OData request of a peer goes through (`enforce`)."""

from ioc.sharing.agreements import (
    DATASETS,
    GRANULARITIES,
    Agreement,
    AgreementBook,
    SharingError,
    peer_holder,
)

__all__ = ["DATASETS", "GRANULARITIES", "Agreement", "AgreementBook", "SharingError", "peer_holder"]
