"""Browse an OPC UA server's address space for the tag browser: node ids are picked, not typed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from asyncua import Client, ua

from equipment.opcua.link import CONNECT_TIMEOUT, LOOP, REQUEST_TIMEOUT
from equipment.opcua.nodeids import parse_node_id

MAX_CHILDREN = 500


@dataclass(frozen=True)
class BrowsedNode:
    node_id: str
    name: str
    node_class: str  # Object, Variable, ...
    data_type: str  # of a variable: Double, Int32, String, Boolean ...
    value: str  # current value of a variable, as text (a hint for the engineer)


async def _browse(url: str, node_text: str) -> list[BrowsedNode]:
    client = Client(url, timeout=REQUEST_TIMEOUT)
    await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT)
    try:
        node = client.get_node(parse_node_id(node_text)) if node_text else client.nodes.objects
        result = []
        for child in (await node.get_children())[:MAX_CHILDREN]:
            node_class = await child.read_node_class()
            name = (await child.read_browse_name()).Name
            data_type = value = ""
            if node_class == ua.NodeClass.Variable:
                type_id = await child.read_data_type()
                data_type = (await client.get_node(type_id).read_browse_name()).Name
                dv = await child.read_data_value(raise_on_bad_status=False)
                value = "" if dv.Value is None else str(dv.Value.Value)[:40]
            result.append(BrowsedNode(child.nodeid.to_string(), name, node_class.name, data_type, value))
        return sorted(result, key=lambda n: (n.node_class != "Object", n.name))
    finally:
        try:
            await asyncio.wait_for(client.disconnect(), 1.0)
        except BaseException:  # noqa: BLE001 - browsing is done; a slow goodbye does not matter
            client.disconnect_socket()


def browse(url: str, node_id: str = "") -> list[BrowsedNode]:
    """The children of `node_id` (the Objects folder when empty). Raises on a malformed node id
    (ValueError) or when the server cannot be reached in time."""
    if node_id:
        parse_node_id(node_id)
    return LOOP.run(_browse(url, node_id), CONNECT_TIMEOUT + REQUEST_TIMEOUT * 5)
