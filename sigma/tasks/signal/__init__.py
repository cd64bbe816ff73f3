"""Aircraft vertical profiles as a σ-GPT task (the paper's third), one concept per module:

- `profile`: altitude bins, `Profile` and its text form;
- `judge`: a finished profile's altitudes and its error in feet against the hidden true flight;
- `task`: the `Task` the app and the API hold, and the shipped example flights.

The names below are the package's public API (`from sigma.tasks import signal as sg; sg.parse_profile(...)`).
"""

from sigma.tasks.signal.judge import Flown, judge, mae_ft, rounding_note
from sigma.tasks.signal.profile import (
    BIN_FT,
    CEILING_FT,
    FORECAST_KNOWN,
    LENGTH,
    MAX_CHARS,
    ROW,
    VOCAB_SIZE,
    Profile,
    dequantise,
    format_profile,
    label,
    masked,
    parse_profile,
    quantise,
    show_run,
)
from sigma.tasks.signal.task import (
    EXAMPLE_LABELS,
    EXAMPLES_FILE,
    MAX_DRAWS,
    SPREAD_N,
    TASK,
    SignalTask,
    example_flights,
    examples,
    forecast_known,
)

__all__ = [
    "BIN_FT",
    "CEILING_FT",
    "EXAMPLES_FILE",
    "EXAMPLE_LABELS",
    "FORECAST_KNOWN",
    "LENGTH",
    "MAX_DRAWS",
    "MAX_CHARS",
    "ROW",
    "SPREAD_N",
    "TASK",
    "VOCAB_SIZE",
    "Flown",
    "Profile",
    "SignalTask",
    "dequantise",
    "example_flights",
    "examples",
    "forecast_known",
    "format_profile",
    "judge",
    "label",
    "mae_ft",
    "masked",
    "parse_profile",
    "quantise",
    "rounding_note",
    "show_run",
]
