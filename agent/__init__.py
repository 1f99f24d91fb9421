"""followup: interview thank-you notes and check-ins, drafted into your own mailbox."""

__version__ = "0.1.0"
