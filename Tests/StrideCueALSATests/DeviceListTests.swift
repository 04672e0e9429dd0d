import StrideCueALSA
import Testing

extension ALSATests {
    @Suite("Listing devices")
    struct DeviceListTests {
        @Test("the PCM list has the stock null device and the private configuration's PCMs")
        func listsPCMs() throws {
            _ = try ALSATestEnvironment.ready()
            let pcms = try DeviceList.pcms()
            let null = try #require(pcms.first { $0.name == "null" })
            #expect(null.canPlay)
            #expect(null.description.contains("Discard all samples"))
            #expect(pcms.contains { $0.name == "paced" })
            #expect(!null.isDefault)
        }

        @Test("listing cards works with or without any")
        func listsCards() throws {
            _ = try ALSATestEnvironment.ready()
            let cards = try DeviceList.cards()
            for card in cards {
                #expect(card.index >= 0)
                #expect(!card.name.isEmpty)
            }
        }
    }
}
