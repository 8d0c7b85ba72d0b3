"""Training: configuration, optimisers and schedules, the trainer, checkpoints and metrics."""
