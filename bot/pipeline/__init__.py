"""The bot side of the job pipeline: submit, cancel, record events, reconcile stuck jobs."""
