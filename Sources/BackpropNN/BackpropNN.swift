// BackpropNN: layers, losses, optimizers, data sets, metrics, checkpoints and a training loop, built on
// the `Backprop` tensors and their reverse-mode gradients.
@_exported import Backprop
