"""An environment built by a user's function, for the bridge's `--entry-point` test: a 2×3
"image" observation (pixel k is k + 10·t + the last action), actions 0 and 1, reward 1 per
step, terminated after `length` steps."""
import gymnasium as gym
import numpy as np


class TinyImage(gym.Env):
    def __init__(self, length):
        self.observation_space = gym.spaces.Box(0, 255, shape=(2, 3), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.length = length
        self.t = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.arange(6, dtype=np.float32).reshape(2, 3), {}

    def step(self, action):
        self.t += 1
        observation = np.arange(6, dtype=np.float32).reshape(2, 3) + 10 * self.t + action
        return observation, 1.0, self.t >= self.length, False, {}


def make(length=4):
    return TinyImage(length)
