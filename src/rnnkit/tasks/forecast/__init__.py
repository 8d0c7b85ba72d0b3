"""`rnnkit forecast`: time-series forecasting with windows, baselines and hold-out scores: training, CLI."""
