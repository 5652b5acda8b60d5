"""The handlers' inputs, parsed here rather than by the SDK, so that input that does not
parse is answered as the engine answers bad input, never with a failing workflow task:

- an update's input that does not parse is refused (INVALID_COMMAND) by its validator, with
  every bad field named; left to the SDK it would be refused with "Failed decoding
  arguments", the reason buried in the failure's cause;
- a signal's input that does not parse is dropped, with a warning and a count (the
  ``campaign_signals_dropped`` metric, and the ``dropped_signals`` query), where the SDK would
  drop it with only a log line of its own.

The handlers take the payload as it came (``RawValue``) and parse it into their one model
here, with the workflow's own payload converter: valid input becomes exactly what the SDK
would have made of it, so histories and their replays are unchanged."""

from typing import TypeVar

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from campaign_engine.domain.errors import Refusal
    from campaign_engine.formats.validation_errors import problem_lines
    from campaign_engine.workflows.refusals import refusal

M = TypeVar("M", bound=BaseModel)

DROPPED_SIGNALS = "campaign_signals_dropped"


def _problem(error: Exception) -> str:
    cause = error.__cause__ if isinstance(error.__cause__, ValidationError) else error
    if isinstance(cause, ValidationError):
        return "; ".join(problem_lines(cause))
    return f"{type(error).__name__}: {error}"


def parse(raw: RawValue, model: type[M], handler: str) -> M:
    """``raw`` as ``model``, or the refusal naming what is wrong with it."""
    try:
        return workflow.payload_converter().from_payload(raw.payload, model)
    except ApplicationError:
        raise
    except Exception as error:
        raise _invalid(handler, model, error) from None


def _invalid(handler: str, model: type[BaseModel], error: Exception) -> ApplicationError:
    return refusal(
        Refusal.INVALID_COMMAND, f"{handler}: not a valid {model.__name__}: {_problem(error)}"
    )


class SignalInbox:
    """Parses signals' inputs, and counts the ones dropped because they do not parse."""

    def __init__(self) -> None:
        self.dropped = 0

    def parse(self, raw: RawValue, model: type[M], signal: str) -> M | None:
        """``raw`` as ``model``, or None once it is dropped, logged and counted."""
        try:
            return workflow.payload_converter().from_payload(raw.payload, model)
        except Exception as error:
            self.dropped += 1
            workflow.logger.warning(
                "signal %s dropped: not a valid %s: %s", signal, model.__name__, _problem(error)
            )
            workflow.metric_meter().create_counter(
                DROPPED_SIGNALS, "signals dropped because their input did not parse"
            ).add(1, {"signal": signal})
            return None
