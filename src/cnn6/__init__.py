"""cnn6: placeholder, the engine is being written."""
