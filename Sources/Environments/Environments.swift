/// Environments with Gymnasium semantics: classic control, gridworlds loaded from `envs/`,
/// vectorised environments and wrappers. This module knows nothing of networks.
public enum Environments {}
