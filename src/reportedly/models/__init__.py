"""Trained artefacts shipped with the package (see the MODEL_CARD files beside them)."""
