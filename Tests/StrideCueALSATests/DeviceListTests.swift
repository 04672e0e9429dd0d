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

        @Test("hw: and plughw: devices are direct hardware; plugins and sound servers are not")
        func directHardware() {
            for name in ["hw:0", "hw:CARD=PCH,DEV=0", "plughw:1,0"] {
                #expect(PCMHint(name: name, description: "", direction: .playback).isDirectHardware, "\(name)")
            }
            for name in ["default", "pulse", "pipewire", "dmix:CARD=PCH", "null", "paced", "sysdefault:CARD=PCH"] {
                #expect(!PCMHint(name: name, description: "", direction: .playback).isDirectHardware, "\(name)")
            }
        }
    }
}
