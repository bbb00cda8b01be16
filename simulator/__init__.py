"""The built-in city simulator: a seeded, believable Da Nang serving its agencies' feeds in their real formats."""
