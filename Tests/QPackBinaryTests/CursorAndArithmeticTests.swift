import Testing
import QPackTestSupport
@testable import QPackBinary

@Suite struct CursorAndArithmeticTests {
    @Test func cursorReadsLittleEndianAndStopsAtTheEnd() throws {
        let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]
        let file = MappedFile(copying: bytes, path: "mem")
        do {
            var c = ByteCursor(file.bytes)
            #expect(try c.readLE(UInt16.self) == 0x0201)
            #expect(try c.readLE(UInt32.self) == 0x0605_0403)
            #expect(c.offset == 6)
            #expect(throws: ByteCursor.OutOfBounds(offset: 6, needed: 4, available: 3)) { try c.readLE(UInt32.self) }
            #expect(c.offset == 6)  // a failed read does not move
            #expect(try c.readBytes(3).count == 3)
            #expect(throws: ByteCursor.OutOfBounds.self) { try c.readBytes(1) }
            #expect(throws: ByteCursor.OutOfBounds.self) { try c.readBytes(-1) }
        }
    }

    @Test func checkedArithmeticReportsOverflow() {
        #expect(Checked.product([1 << 32, 1 << 32]) == nil)
        #expect(Checked.product([Int.max, 2]) == nil)
        #expect(Checked.product([Int.max, 0]) == 0)
        #expect(Checked.product([3, -1]) == nil)
        #expect(Checked.product([]) == 1)
        #expect(Checked.alignUp(33, to: 32) == 64)
        #expect(Checked.alignUp(64, to: 32) == 64)
        #expect(Checked.alignUp(Int.max - 3, to: 32) == nil)
        #expect(Checked.int(UInt64(Int.max)) == Int.max)
        #expect(Checked.int(UInt64(Int.max) + 1) == nil)
    }

    @Test func weightedChecksumSeesEverySingleChange() {
        var g = SplitMix64(seed: 11)
        let values = (0..<1000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: g.next()) & 0x3FFF_FFFF) }
        let base = WeightedChecksum.of(values)
        for i in stride(from: 0, to: values.count, by: 37) {
            var changed = values
            changed[i] = Float(bitPattern: changed[i].bitPattern ^ 1)
            #expect(WeightedChecksum.of(changed) != base)
        }
        // Swapping two different values changes it too: the weights depend on position.
        var swapped = values
        swapped.swapAt(3, 4)
        #expect(WeightedChecksum.of(swapped) != base)
    }

    @Test func mappedFileRefusesNonRegularFiles() {
        #expect(throws: MappedFile.OpenError.notRegularFile(path: "/tmp")) { try MappedFile(path: "/tmp") }
        #expect(throws: MappedFile.OpenError.self) { try MappedFile(path: "/nonexistent/qpack") }
    }
}
