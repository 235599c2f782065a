import Testing

@testable import QPackCommands

/// The progress bar's estimate of the time left: the remaining items at the pace of the done
/// ones, worked out by hand here.
@Suite struct ProgressTests {
    @Test func estimatesTheRemainingItemsAtThePaceOfTheDoneOnes() {
        // 1 of 3 done in 10 s: 2 more items at 10 s each.
        #expect(ProgressBar.timeLeft(elapsed: 10, done: 1, total: 3) == "20s left")
        // 30 of 211 in 45 s: 181 · 1.5 s = 271.5 s, rounded to 272 s = 4 min 32 s.
        #expect(ProgressBar.timeLeft(elapsed: 45, done: 30, total: 211) == "4m32s left")
        // 1 of 100 in 61 s: 99 · 61 s = 6039 s = 1 h 40 min 39 s, shown to the minute.
        #expect(ProgressBar.timeLeft(elapsed: 61, done: 1, total: 100) == "1h40m left")
        // Under a minute left keeps seconds only; 65 s shows minutes with two-digit seconds.
        #expect(ProgressBar.timeLeft(elapsed: 65, done: 1, total: 2) == "1m05s left")
    }

    @Test func saysNothingBeforeTheFirstItemOrAfterTheLast() {
        #expect(ProgressBar.timeLeft(elapsed: 5, done: 0, total: 10) == nil)
        #expect(ProgressBar.timeLeft(elapsed: 5, done: 10, total: 10) == nil)
        #expect(ProgressBar.timeLeft(elapsed: .nan, done: 1, total: 10) == nil)
    }
}
