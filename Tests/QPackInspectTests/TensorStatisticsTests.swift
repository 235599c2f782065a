import Testing
@testable import QPackInspect

@Suite struct TensorStatisticsTests {
    @Test func handComputedValues() {
        // values 1, 2, 3, 4, 0, -2: n=6, sum=8, mean=4/3; squares of deviations sum to 152/6... computed below
        let s = TensorStatistics(values: [1, 2, 3, 4, 0, -2], bins: 3)
        #expect(s.count == 6)
        #expect(s.min == -2)
        #expect(s.max == 4)
        #expect(s.absmax == 4)
        #expect(s.zeros == 1)
        #expect(abs(s.mean! - 8.0 / 6.0) < 1e-15)
        // Σ(x - 4/3)^2 = 1/9 + 4/9 + 25/9 + 64/9 + 16/9 + 100/9 = 210/9; / 6 = 35/9
        #expect(abs(s.std! - (35.0 / 9.0).squareRoot()) < 1e-15)
        // bins of width 2 over [-2, 4]: [-2,0): -2 | [0,2): 0, 1 | [2,4]: 2, 3, 4
        #expect(s.histogram.map(\.count) == [1, 2, 3])
        #expect(s.histogram.map(\.lower) == [-2, 0, 2])
        #expect(s.histogram.last?.upper == 4)
    }

    @Test func nanAndInfinityAreCountedNotAveraged() {
        let s = TensorStatistics(values: [.nan, 1, .infinity, -.infinity, 3, .nan], bins: 2)
        #expect(s.nans == 2)
        #expect(s.infinities == 2)
        #expect(s.mean == 2)
        #expect(s.min == 1 && s.max == 3)
        #expect(s.histogram.map(\.count).reduce(0, +) == 2)
    }

    @Test func noFiniteValuesGiveNoMoments() {
        let s = TensorStatistics(values: [.nan, .infinity], bins: 4)
        #expect(s.min == nil && s.mean == nil && s.std == nil && s.histogram.isEmpty)
        let empty = TensorStatistics(values: [], bins: 4)
        #expect(empty.count == 0 && empty.mean == nil)
    }

    @Test func constantTensorsFillOneBin() {
        let s = TensorStatistics(values: [Float](repeating: 0.5, count: 10), bins: 4)
        #expect(s.std == 0)
        #expect(s.histogram.map(\.count) == [10, 0, 0, 0])
    }
}
