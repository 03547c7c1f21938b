import Agents

/// Threat models and attacks on observations: white-box, black-box, scheduled and learned. An
/// attack sees a policy only through its differentiable surface.
public enum Attacks {}
