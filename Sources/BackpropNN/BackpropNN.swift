import Backprop
