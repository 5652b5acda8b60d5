"""Which failures of an effect a retry can cure, and which it cannot.

A campaign's changes are carried out with retries that never give up (workflows/activities.py):
a database or broker that is down comes back, and the change must not be lost meanwhile. A
failure that will be the same on every attempt, though, would wedge the campaign for good and
fill its history with attempts: a value the database refuses (out of a column's range, a NUL
byte in text), a constraint it breaks, a payload that does not parse. Those are raised as a
non-retryable ``CHANGE_REFUSED`` failure, which the workflow answers by quarantining the
campaign (domain/campaign/quarantine.py). Everything else is retried.

A programming error in a statement (an undefined column during a rolling deploy) is not
counted as permanent: a new release cures it, and quarantining every campaign meanwhile would
be worse than retrying.
"""

from decimal import DecimalException

import psycopg
import sqlalchemy.exc
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from campaign_engine.temporal.messages import CHANGE_REFUSED

_PERMANENT_DRIVER = (psycopg.DataError, psycopg.IntegrityError)
_PERMANENT_SQLALCHEMY = (sqlalchemy.exc.DataError, sqlalchemy.exc.IntegrityError)
_PERMANENT_PYTHON = (ValidationError, DecimalException, OverflowError)


def is_permanent(error: BaseException) -> bool:
    """No retry can cure ``error``: the same input fails the same way."""
    if isinstance(error, _PERMANENT_DRIVER + _PERMANENT_SQLALCHEMY + _PERMANENT_PYTHON):
        return True
    if isinstance(error, sqlalchemy.exc.StatementError):
        return error.orig is not None and is_permanent(error.orig)
    return False


def refused(error: BaseException, what: str) -> ApplicationError:
    """The non-retryable failure that tells the workflow ``what`` cannot be done, and why
    (the first line of the error, bounded: it ends up in an event and on the dashboard)."""
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    reason = f"{what}: {type(error).__name__}: {first_line}"
    return ApplicationError(reason, type=CHANGE_REFUSED, non_retryable=True)
