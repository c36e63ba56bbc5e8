"""Voice: each sentence as the outlet's reporting or its own opinion."""
