"""What a repository needs from the unit of work it runs in, and the base every repository shares.

``store.sql.SqlUnitOfWork`` provides a ``Transaction``; the repositories (each in its own module,
such as ``store.contacts`` or ``store.consultations``) depend on this protocol only, so no repository
module imports the unit of work that builds it.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast

from sqlalchemy import Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.tables import Base

_Row = TypeVar("_Row", bound=Base)
#: the column values of one row to insert or update
Values = dict[str, object]


class Transaction(Protocol):
    """One open transaction on one database session."""

    session: AsyncSession
    #: the SQLAlchemy dialect name: ``"sqlite"`` or ``"postgresql"``
    dialect: str

    async def begin_write(self) -> None:
        """Called before the first write of a transaction (see ``store.sql``)."""
        ...

    def insert(self, entity: type[Base] | Table) -> postgresql.Insert | sqlite.Insert:
        """An ``INSERT`` that supports ``ON CONFLICT`` on this database."""
        ...

    async def rows(self, statement: Select[_Row]) -> list[_Row]:
        """Run a query for mapped rows, refreshing any already in the session."""
        ...


class SqlRepository:
    """A repository working inside the transaction ``uow``."""

    def __init__(self, uow: Transaction) -> None:
        self._uow = uow
        self._session = uow.session


def dialect_insert(dialect: str, entity: type[Base] | Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` that supports ``ON CONFLICT`` on ``dialect`` (``Transaction.dialect``), for a
    statement built once per database rather than once per call."""
    if dialect == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


def table_of(entity: type[Base]) -> Table:
    """The Core table of a mapped class. Statements on it skip the ORM's per-statement work
    (bulk DML, loading rows as objects), which on a turn's short statements costs more than the
    statement itself: used where a turn runs a statement every time."""
    return cast(Table, entity.__table__)
