import NeuralNet
import Environments

/// Policies over networks (greedy-Q, categorical, Gaussian, deterministic) and the learners that
/// train them (DQN, PPO, TD3/DDPG).
public enum Agents {}
