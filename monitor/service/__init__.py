"""The running service: the scheduled jobs, the scheduler over them, and the process that runs both."""
