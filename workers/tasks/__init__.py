"""One Celery task per modality; all of them run through `workers.runner.run_job`."""
