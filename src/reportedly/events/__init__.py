"""Events: who did what to whom, each tied to the attribution and certainty behind it."""
