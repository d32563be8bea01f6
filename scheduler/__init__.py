"""APScheduler wiring: the trigger for work that lives in our tables."""
