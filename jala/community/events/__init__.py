"""Events (活动): lectures, training, seminars, reading month; sign-up, waiting list, check-in."""
