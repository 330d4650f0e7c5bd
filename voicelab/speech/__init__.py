"""Does each take say its line: an offline speech-to-text check and its word error rate."""
