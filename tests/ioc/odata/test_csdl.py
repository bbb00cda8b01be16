"""$metadata is CSDL XML 4.0 written from the one declaration: every set, its type, key and typed properties,
read-only annotations; and the service document lists the same sets."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from ioc.odata.csdl import EDM, EDMX, metadata_xml, service_document
from ioc.odata.model import NAMESPACE, EdmType
from ioc.odata.sets import SETS

NS = {"edm": EDM, "edmx": EDMX}


def test_every_set_and_property_is_declared_with_its_type_and_key() -> None:
    root = ET.fromstring(metadata_xml(SETS, max_page_size=1000))
    assert root.tag == f"{{{EDMX}}}Edmx" and root.get("Version") == "4.0"
    schema = root.find("edmx:DataServices/edm:Schema", NS)
    assert schema is not None and schema.get("Namespace") == NAMESPACE
    for entity_set in SETS:
        entity_type = schema.find(f"edm:EntityType[@Name='{entity_set.type_name}']", NS)
        assert entity_type is not None, entity_set.name
        assert [ref.get("Name") for ref in entity_type.findall("edm:Key/edm:PropertyRef", NS)] == [entity_set.key.name]
        declared = {prop.get("Name"): prop for prop in entity_type.findall("edm:Property", NS)}
        assert list(declared) == list(entity_set.names)
        for prop in entity_set.properties:
            element = declared[prop.name]
            assert element.get("Type") == prop.type.value
            assert (element.get("Scale") == "variable") == (prop.type is EdmType.DECIMAL)
        assert declared[entity_set.key.name].get("Nullable") == "false"
        container_set = schema.find(f"edm:EntityContainer/edm:EntitySet[@Name='{entity_set.name}']", NS)
        assert container_set is not None
        assert container_set.get("EntityType") == f"{NAMESPACE}.{entity_set.type_name}"
        restrictions = container_set.findall("edm:Annotation/edm:Record/edm:PropertyValue", NS)
        assert {(value.get("Property"), value.get("Bool")) for value in restrictions} == {
            ("Insertable", "false"), ("Updatable", "false"), ("Deletable", "false")}
    # the vocabularies the annotations use are referenced
    includes = {include.get("Alias") for include in root.findall("edmx:Reference/edmx:Include", NS)}
    assert includes == {"Core", "Capabilities"}


def test_the_service_document_lists_the_same_sets() -> None:
    document = service_document(SETS, "http://host/odata/v4/")
    assert document["@odata.context"] == "http://host/odata/v4/$metadata"
    assert [(item["name"], item["url"], item["kind"]) for item in document["value"]] == [
        (entity_set.name, entity_set.name, "EntitySet") for entity_set in SETS]
