import Attacks

/// Robust training objectives, ensembles, input transformations, certification and detection.
public enum Defenses {}
