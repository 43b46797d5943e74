"""The live catalog reader: one call reads a database's schemas into frozen, sorted values.

Used by the Schema Guardian's live-database rules and by the schema document
(``manage.py schema_doc``). ``read_catalog(connections["monitor"])`` works as well as the owner.
"""

from guardian.catalog.reader import read_catalog
from guardian.catalog.types import (
    Catalog,
    Column,
    Constraint,
    EnumType,
    Extension,
    Function,
    Grant,
    Index,
    Policy,
    Schema,
    SequenceDef,
    ServerInfo,
    Table,
    TableStats,
    Trigger,
    View,
)

__all__ = [
    "Catalog",
    "Column",
    "Constraint",
    "EnumType",
    "Extension",
    "Function",
    "Grant",
    "Index",
    "Policy",
    "Schema",
    "SequenceDef",
    "ServerInfo",
    "Table",
    "TableStats",
    "Trigger",
    "View",
    "read_catalog",
]
