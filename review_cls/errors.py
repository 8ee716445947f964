"""The project's own error types: every bad input ends in one of these, with a message a user can act on."""


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
