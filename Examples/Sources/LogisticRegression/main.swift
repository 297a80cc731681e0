// Lecture 000's logistic regression, by hand: p(y = 1 | x) = σ(w·x + w₀), the cross-entropy loss,
// its gradient by reverse mode, and plain gradient descent, on two noisy clusters in the plane.
import BackpropNN

// Two Gaussian clusters: label 1 around (1, 1), label 0 around (−1, −1).
var generator = SeededGenerator(seed: 42)
let count = 200
let noise = Tensor<Double>.randomNormal(shape: [count, 2], standardDeviation: 0.8, using: &generator).scalars
var points: [Double] = [], labels: [Double] = []
for i in 0..<count {
    let label = Double(i % 2), center = label == 1 ? 1.0 : -1.0
    points += [center + noise[2 * i], center + noise[2 * i + 1]]
    labels.append(label)
}
let x = Tensor(shape: [count, 2], scalars: points)
let y = Tensor(shape: [count, 1], scalars: labels)

// The model's parameters: w (2×1) and w₀.
var w = Tensor<Double>.zeros(shape: [2, 1])
var w0 = Tensor<Double>(0)
let learningRate = 0.5

for step in 0...300 {
    // Forward and backward in one call: the loss and its gradient with respect to (w, w₀).
    let (loss, (dw, dw0)) = valueWithGradient(at: w, w0) { w, w0 in
        binaryCrossEntropy(logits: matmul(x, w) + w0, labels: y)
    }
    if step % 50 == 0 { print("step \(step)  loss \(loss.scalar)") }
    // Gradient descent: step against the gradient.
    w = w - learningRate * dw
    w0 = w0 - learningRate * dw0
}

let predictions = sigmoid(matmul(x, w) + w0).scalars.map { $0 > 0.5 ? 1 : 0 }
let correct = zip(predictions, labels).filter { Double($0) == $1 }.count
print("w = \(w.scalars), w0 = \(w0.scalar)")
print("training accuracy \(Double(correct) / Double(count))")
