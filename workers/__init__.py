"""Celery workers: the app factory, the job runner and one task per modality."""
