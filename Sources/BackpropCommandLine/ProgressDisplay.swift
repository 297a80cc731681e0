import BackpropNN
import Foundation

/// Shows training progress: a bar redrawn in place on a terminal, plain lines (one per epoch) otherwise.
final class ProgressDisplay {
    /// Whether stdout is a terminal.
    let isTerminal: Bool
    /// Whether to print anything at all (off for `--quiet`).
    let enabled: Bool

    /// What the throughput counts: `ex` (examples) for a classifier, `char` (characters) for a language model.
    let unit: String
    /// Whether the losses are per character, so the held-out loss is shown in bits per character too and the
    /// held-out part is called validation.
    let perCharacter: Bool

    /// When the bar was last drawn (for throttling redraws).
    private var lastDraw = ContinuousClock.now - .seconds(1)

    /// Creates the display for stdout.
    init(enabled: Bool, perCharacter: Bool = false) {
        self.enabled = enabled
        self.isTerminal = isatty(STDOUT_FILENO) != 0
        self.perCharacter = perCharacter
        self.unit = perCharacter ? "char" : "ex"
    }

    /// Called after each batch: redraws the bar (terminal only, about every 50 ms of progress).
    func batch(_ progress: TrainingProgress) {
        guard enabled, isTerminal else { return }
        let now = ContinuousClock.now
        guard progress.batch == progress.batches || now - lastDraw >= .milliseconds(50) else { return }
        lastDraw = now
        let width = 24
        let filled = Int((Double(progress.batch) / Double(max(progress.batches, 1)) * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\r\u{1B}[2Kepoch \(progress.epoch)/\(progress.epochs) \(bar) \(progress.batch)/\(progress.batches)"
            + String(format: "  loss %.4f  acc %.3f  %.0f %@/s  ", progress.loss, progress.accuracy, progress.examplesPerSecond, unit)
            + formatSeconds(progress.estimatedSecondsLeft) + " left"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// Called after each epoch: finishes the bar's line, or prints a plain line.
    func epoch(_ record: EpochRecord, epochs: Int, runSecondsLeft: Double) {
        guard enabled else { return }
        var line = String(
            format: "epoch %d/%d  loss %.4f  acc %.4f", record.epoch, epochs, record.trainLoss, record.trainAccuracy)
        if let testLoss = record.testLoss, let testAccuracy = record.testAccuracy {
            if perCharacter {
                line += String(format: "  val loss %.4f (%.3f bits/char)  val acc %.4f", testLoss, testLoss / Foundation.log(2), testAccuracy)
            } else {
                line += String(format: "  test loss %.4f  test acc %.4f", testLoss, testAccuracy)
            }
        }
        line += String(format: "  %.2fs  lr %g  ", record.seconds, record.learningRate) + formatSeconds(runSecondsLeft) + " left"
        print((isTerminal ? "\r\u{1B}[2K" : "") + line)
    }

    /// Ends an unfinished bar's line (before an error message), so the message starts on a line of its own.
    func finish() {
        guard enabled, isTerminal else { return }
        print("")
    }

    /// Seconds as `1.2s` or `3m04s`.
    func formatSeconds(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        return String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}
