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


class Frames(gym.Env):
    """A 36×36 grayscale game, the smallest frame SB3's NatureCNN takes: a paddle (a 2×6 bar on
    the bottom rows, actions 0 left, 1 stay, 2 right, 3 pixels a step) catches a dot falling
    from a random column; reward 1 for a catch, 0 for a miss, 60 steps an episode. Frames are
    uint8, channels last `(36, 36, 1)` as Atari's grayscale frames are, or `(36, 36)` with
    `channel=False` for Gymnasium's FrameStackObservation."""

    size = 36

    def __init__(self, channel=True):
        shape = (self.size, self.size, 1) if channel else (self.size, self.size)
        self.observation_space = gym.spaces.Box(0, 255, shape=shape, dtype=np.uint8)
        self.action_space = gym.spaces.Discrete(3)
        self.channel = channel

    def frame(self):
        image = np.zeros((self.size, self.size), dtype=np.uint8)
        image[self.size - 2:, self.paddle:self.paddle + 6] = 200
        image[self.dot_row, self.dot_column] = 255
        image[0, :] = 40  # a ceiling, so that frames differ from zero images in more than the objects
        return image[:, :, None] if self.channel else image

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.paddle = int(self.np_random.integers(0, self.size - 6))
        self.dot_row, self.dot_column = 1, int(self.np_random.integers(0, self.size))
        return self.frame(), {}

    def step(self, action):
        self.t += 1
        self.paddle = int(np.clip(self.paddle + 3 * (int(action) - 1), 0, self.size - 6))
        self.dot_row += 3
        reward = 0.0
        if self.dot_row >= self.size - 2:
            reward = float(self.paddle <= self.dot_column < self.paddle + 6)
            self.dot_row, self.dot_column = 1, int(self.np_random.integers(0, self.size))
        return self.frame(), reward, False, self.t >= 60, {}


def make_frames(stack=4):
    """`Frames` as SB3's CnnPolicy saw it in training (VecFrameStack, then VecTransposeImage):
    the last `stack` frames, oldest first, channels first, zeros before the first frame of an
    episode — which Gymnasium's FrameStackObservation gives from channel-less frames with zero
    padding (its default pads with the first frame)."""
    return gym.wrappers.FrameStackObservation(Frames(channel=False), stack, padding_type="zero")
