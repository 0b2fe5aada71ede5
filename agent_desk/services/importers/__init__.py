"""Imports from the billing system: customers with their claims, and payments.

One package along its seams: ``reading`` (the CSV stream, row errors, results),
``customers`` (the customer import's run) with ``customer_writer`` (writing its
chunks), and ``payments``; the names callers use are here.

All or nothing: every row is checked; if any row is bad, nothing is written and every
bad row is reported with its line number and reason. Importing the same file again
changes nothing (customers and claims are matched by their numbers, payments by
their reference).

At portfolio scale (hundreds of thousands of rows) the file is streamed, never held
in memory: rows are parsed one by one and written in chunks, in bulk (``COPY`` on
PostgreSQL, one ``executemany`` per table on SQLite), inside the caller's one
transaction. Once a bad row is found nothing more is written, the rest of the file is
still checked (so every bad row is listed), and the transaction is rolled back: the
database never sees a half import. ``progress`` is told how far the file has been
read; raising ``ImportCancelled`` from it stops the import (nothing written).
"""

from agent_desk.services.importers.customers import CHUNK_ROWS, import_customers
from agent_desk.services.importers.payments import PAYMENT_CUSTOMERS_PER_PART, import_payments
from agent_desk.services.importers.reading import (
    MAX_FILE_BYTES,
    PROGRESS_EVERY,
    ImportCancelled,
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    read_rows,
    stream_rows,
)

__all__ = [
    "CHUNK_ROWS",
    "MAX_FILE_BYTES",
    "PAYMENT_CUSTOMERS_PER_PART",
    "PROGRESS_EVERY",
    "ImportCancelled",
    "ImportRejected",
    "ImportResult",
    "Progress",
    "RowError",
    "import_customers",
    "import_payments",
    "read_rows",
    "stream_rows",
]
