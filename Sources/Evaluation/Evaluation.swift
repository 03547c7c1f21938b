import Defenses

/// The episode runner, replay files, metrics, sweeps, the results store and reports.
public enum Evaluation {}
