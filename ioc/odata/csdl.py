"""The service's CSDL XML ($metadata) and JSON service document, both written from the entity-set declaration
(ioc.odata.sets), so what a client reads about the service is what it serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET

from ioc.odata.model import NAMESPACE, EdmType, EntitySet

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
CORE = "Org.OData.Core.V1"
CAPABILITIES = "Org.OData.Capabilities.V1"
_VOCABULARY = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/{}.xml"


def metadata_xml(sets: Sequence[EntitySet], *, max_page_size: int) -> bytes:
    """The CSDL XML document (OData v4.0) of `sets`."""
    ET.register_namespace("edmx", EDMX)
    ET.register_namespace("", EDM)
    root = ET.Element(f"{{{EDMX}}}Edmx", Version="4.0")
    for vocabulary, alias in ((CORE, "Core"), (CAPABILITIES, "Capabilities")):
        reference = ET.SubElement(root, f"{{{EDMX}}}Reference", Uri=_VOCABULARY.format(vocabulary))
        ET.SubElement(reference, f"{{{EDMX}}}Include", Namespace=vocabulary, Alias=alias)
    services = ET.SubElement(root, f"{{{EDMX}}}DataServices")
    schema = ET.SubElement(services, f"{{{EDM}}}Schema", Namespace=NAMESPACE)
    for entity_set in sets:
        entity_type = ET.SubElement(schema, f"{{{EDM}}}EntityType", Name=entity_set.type_name)
        key = ET.SubElement(entity_type, f"{{{EDM}}}Key")
        ET.SubElement(key, f"{{{EDM}}}PropertyRef", Name=entity_set.key.name)
        for prop in entity_set.properties:
            attributes = {"Name": prop.name, "Type": prop.type.value}
            if prop is entity_set.key:
                attributes["Nullable"] = "false"
            if prop.type is EdmType.DECIMAL:
                attributes["Scale"] = "variable"
            element = ET.SubElement(entity_type, f"{{{EDM}}}Property", attributes)
            if prop.description:
                _annotate(element, "Core.Description", prop.description)
    container = ET.SubElement(schema, f"{{{EDM}}}EntityContainer", Name="Container")
    for entity_set in sets:
        element = ET.SubElement(container, f"{{{EDM}}}EntitySet", Name=entity_set.name,
                                EntityType=f"{NAMESPACE}.{entity_set.type_name}")
        _annotate(element, "Core.Description", entity_set.description)
        # read-only open data: say so, so generic clients do not offer to write
        for term, flag in (("InsertRestrictions", "Insertable"), ("UpdateRestrictions", "Updatable"),
                           ("DeleteRestrictions", "Deletable")):
            annotation = ET.SubElement(element, f"{{{EDM}}}Annotation", Term=f"Capabilities.{term}")
            record = ET.SubElement(annotation, f"{{{EDM}}}Record")
            ET.SubElement(record, f"{{{EDM}}}PropertyValue", Property=flag, Bool="false")
        _annotate(element, "Core.LongDescription", f"Served in pages of at most {max_page_size} rows, linked by "
                  "@odata.nextLink.")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _annotate(element: ET.Element, term: str, text: str) -> None:
    ET.SubElement(element, f"{{{EDM}}}Annotation", Term=term, String=text)


def service_document(sets: Sequence[EntitySet], root: str) -> dict[str, Any]:
    """The JSON service document: every entity set and its URL relative to the service root."""
    return {"@odata.context": f"{root}$metadata",
            "value": [{"name": entity_set.name, "kind": "EntitySet", "url": entity_set.name} for entity_set in sets]}
