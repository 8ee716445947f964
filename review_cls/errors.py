"""The project's own error types: every bad input ends in one of these, with a message a user can act on."""

# exit codes: a user error (bad file, column or setting), and the shell's codes for a run stopped by Ctrl+C or SIGTERM
USER_ERROR_EXIT_CODE = 2
INTERRUPTED_EXIT_CODE = 130
TERMINATED_EXIT_CODE = 143


class ReviewClsError(Exception):
    """Base class for errors the user can fix (bad file, bad column, bad setting)."""


class DataError(ReviewClsError):
    """The input table cannot be read or does not hold usable reviews and labels."""


class ConfigError(ReviewClsError):
    """A setting is impossible; raised before any training starts."""


class CheckpointError(ReviewClsError):
    """A checkpoint or exported model cannot be used for the requested job."""


class TrainingDivergedError(ReviewClsError):
    """The training loss became NaN or infinite: no later epoch can recover, so the run stops with a clear reason."""
