"""Parse untrusted BPMN XML without letting it reach the file system or the network.

SpiffWorkflow parses with lxml's defaults; a designer's upload must never get that far. We parse
ourselves with entity resolution, DTD loading and network access off, refuse any DOCTYPE outright
(billion-laughs and XXE both need one), and hand the resulting tree to the engine's parser.
"""

from __future__ import annotations

from lxml import etree

from engine.errors import DeployError

MAX_BPMN_BYTES = 5 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(content: bytes | str, filename: str) -> etree._ElementTree:
    """Return the parsed tree or raise DeployError naming the file and the reason."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > MAX_BPMN_BYTES:
        raise DeployError(
            f"{filename}: file is larger than {MAX_BPMN_BYTES // (1024 * 1024)} MiB",
            problems=[{"file": filename, "element": None, "reason": "file too large"}],
        )
    head = content[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in content.lower():
        raise DeployError(
            f"{filename}: a DOCTYPE or ENTITY declaration is not allowed in BPMN files",
            problems=[{"file": filename, "element": None, "reason": "DOCTYPE/ENTITY declarations are refused"}],
        )
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise DeployError(
            f"{filename}: not well-formed XML: {exc}",
            problems=[{"file": filename, "element": None, "reason": f"not well-formed XML: {exc}"}],
        ) from exc
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise DeployError(
            f"{filename}: a DOCTYPE is not allowed",
            problems=[{"file": filename, "element": None, "reason": "DOCTYPE declarations are refused"}],
        )
    return tree
