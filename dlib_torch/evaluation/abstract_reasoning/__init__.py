"""Abstract visual reasoning on Procedurally Generated Matrices (van Steenkiste et al. 2019)."""
