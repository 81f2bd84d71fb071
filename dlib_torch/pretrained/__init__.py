"""The original's published models: reading TF checkpoints and importing them, without TensorFlow."""
