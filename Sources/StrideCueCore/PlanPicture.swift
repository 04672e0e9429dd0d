/// Draws a plan as an SVG picture: tempo over time, sets and rests as bands, and one lane per
/// cue with a mark wherever it is spoken, as wide as the time it takes.
///
/// The picture is plain SVG 1.1 (no scripts, no external fonts or images), so browsers,
/// `rsvg-convert` and editors all show it the same. Every set and every cue is named in the
/// drawing, or in a `<title>` when its band is too narrow for a label.
/// - Parameters:
///   - layout: The plan and its cues, laid out in time.
///   - subtitle: An extra line under the title, such as where the preset comes from.
public func planPicture(_ layout: PlanLayout, subtitle: String? = nil) -> String {
    var svg = SVGCanvas(layout: layout)
    return svg.draw(subtitle: subtitle)
}

/// Where the plan picture's time axis lies, for a marker drawn over it (the coach's page).
public enum PlanPictureAxis {
    /// The horizontal position of time `t` of a plan `total` seconds long, as a fraction of
    /// the picture's width.
    public static func x(_ t: Double, total: Double) -> Double {
        (SVGCanvas.gutterWidth + t / max(total, 1e-9) * (SVGCanvas.pictureWidth - SVGCanvas.gutterWidth - SVGCanvas.rightMargin))
            / SVGCanvas.pictureWidth
    }
}

private let palette = ["#e8590c", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#5f3dc4", "#a61e4d", "#5c940d"]
private let ink = "#1b2430"
private let muted = "#6b7685"
private let faint = "#9aa3b0"
private let tempoColour = "#1c64d9"

private struct SVGCanvas {
    let layout: PlanLayout
    static let pictureWidth = 960.0
    static let gutterWidth = 200.0
    static let rightMargin = 36.0
    let width = SVGCanvas.pictureWidth
    let gutter = SVGCanvas.gutterWidth
    let right = SVGCanvas.rightMargin
    var plotWidth: Double { width - gutter - right }
    var out: [String] = []

    init(layout: PlanLayout) {
        self.layout = layout
    }

    func x(_ t: Double) -> Double { gutter + t / max(layout.total, 1e-9) * plotWidth }

    mutating func draw(subtitle: String?) -> String {
        let plan = layout.plan
        var y = 0.0
        var body: [String] = []
        func add(_ line: String) { body.append(line) }

        // Title and the numbers that matter.
        add(text(24, 46, plan.name, size: 24, weight: "700", fill: ink))
        let cueTotal = layout.cues.reduce(0) { $0 + layout.count(of: $1) } * plan.sets
        var facts = ["\(plan.sets) set\(plan.sets == 1 ? "" : "s")", "\(layout.stepsPerSet * plan.sets) steps",
                     clock(layout.total), tempoRange()]
        facts.append("\(cueTotal) cue\(cueTotal == 1 ? "" : "s")")
        add(text(24, 70, facts.joined(separator: "  ·  "), size: 14, fill: muted))
        y = 82
        if let subtitle {
            add(text(24, 92, subtitle, size: 11, fill: faint))
            y = 100
        }
        if !plan.caution.isEmpty {
            let lines = Array(wrapParagraphs(plan.caution, width: 118).prefix(3))
            let height = 14 + Double(lines.count) * 17
            y += 8
            add("<rect x=\"24\" y=\"\(n(y))\" width=\"\(n(width - 48))\" height=\"\(n(height))\" rx=\"6\" fill=\"#fff4e6\" stroke=\"#f59f00\" stroke-width=\"1\"/>")
            add(text(38, y + 22, "⚠", size: 15, weight: "700", fill: "#d9480f"))
            for (i, line) in lines.enumerated() {
                add(text(60, y + 22 + Double(i) * 17, (i == 0 ? "Caution: " : "") + line, size: 13, weight: i == 0 ? "600" : "400", fill: "#8a3c00"))
            }
            y += height
        }

        // The tempo chart.
        let top = y + 34
        let chartHeight = 240.0
        let bottom = top + chartHeight
        let (low, high, gridStep) = tempoAxis()
        let yOf = { (tempo: Double) in bottom - (tempo - low) / (high - low) * chartHeight }
        add("<g id=\"bands\">")
        if layout.lead > 0 {
            add(band(0, layout.lead, top, chartHeight, fill: "#fff4e6", title: "Caution, spoken: \(lengthText(layout.lead))"))
            if x(layout.lead) - x(0) >= 20 {
                add(text(x(0) + 5, top + 17, "⚠", size: 12, weight: "700", fill: "#d9480f"))
            }
        }
        for set in layout.sets {
            if set.number > 1 && plan.rest > 0 {
                let from = set.countInStart - plan.rest
                add(band(from, set.countInStart, top, chartHeight, fill: "url(#rest)", title: "Rest: \(lengthText(plan.rest)) from \(clock(from))"))
                let w = x(set.countInStart) - x(from)
                let label = w >= 76 ? "rest \(lengthText(plan.rest))" : (w >= 34 ? "rest" : "")
                if !label.isEmpty {
                    add(text((x(from) + x(set.countInStart)) / 2, top + chartHeight / 2 + 4, label, size: 12, fill: faint, anchor: "middle"))
                }
            }
            let title = "Set \(set.number): \(clock(set.countInStart))–\(clock(set.end)), \(layout.stepsPerSet) steps"
            add(band(set.countInStart, set.end, top, chartHeight, fill: "#eaf2fc", title: title))
            if set.start > set.countInStart {
                add(band(set.countInStart, set.start, top, chartHeight, fill: "#d7e6f8", title: "Set \(set.number) count-in: \(plan.countIn) clicks"))
            }
            let w = x(set.end) - x(set.countInStart)
            let label = w >= 46 ? "Set \(set.number)" : (w >= 14 ? String(set.number) : "")
            if !label.isEmpty {
                add(text(x(set.countInStart) + 6, top + 17, label, size: 12, weight: "600", fill: "#3b6aa8"))
            }
        }
        add("</g>")

        // Grid and tempo axis.
        add("<g id=\"tempo-axis\" font-size=\"12\" fill=\"\(faint)\">")
        var tempo = low
        while tempo <= high + 1e-9 {
            let gy = yOf(tempo)
            add("<line x1=\"\(n(gutter))\" y1=\"\(n(gy))\" x2=\"\(n(gutter + plotWidth))\" y2=\"\(n(gy))\" stroke=\"#dfe4ea\" stroke-width=\"1\"\(tempo == low ? "" : " stroke-dasharray=\"2 4\"")/>")
            add("<text x=\"\(n(gutter - 10))\" y=\"\(n(gy + 4))\" text-anchor=\"end\">\(spm(tempo))</text>")
            tempo += gridStep
        }
        add("<text transform=\"translate(\(n(gutter - 52)) \(n(top + chartHeight / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"\(muted)\">steps per minute</text>")
        add("</g>")

        // The tempo line, with a light fill under it.
        add("<g id=\"tempo\">")
        for set in layout.sets {
            let points = tempoPoints(set)
            let line = points.map { "\(n(x($0.time))),\(n(yOf($0.tempo)))" }.joined(separator: " ")
            let area = "\(n(x(points[0].time))),\(n(bottom)) " + line + " \(n(x(points[points.count - 1].time))),\(n(bottom))"
            add("<polygon points=\"\(area)\" fill=\"\(tempoColour)\" fill-opacity=\"0.08\"/>")
            if set.start > set.countInStart {
                let cy = yOf(layout.tempo(atStep: 1))
                add("<line x1=\"\(n(x(set.countInStart)))\" y1=\"\(n(cy))\" x2=\"\(n(x(set.start)))\" y2=\"\(n(cy))\" stroke=\"\(tempoColour)\" stroke-width=\"2\" stroke-dasharray=\"2 3\"/>")
            }
            add("<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(tempoColour)\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>")
        }
        // Cue dots on the line, where there are few enough to tell apart.
        for (index, cue) in layout.cues.enumerated() where layout.count(of: cue) <= 64 {
            let colour = palette[index % palette.count]
            var lastX = -10.0
            for set in layout.sets {
                for step in cue.startSteps(inSetOf: layout.stepsPerSet) {
                    let t = set.start + layout.timeInSet(ofStep: step)
                    guard x(t) - lastX >= 3 else { continue }
                    lastX = x(t)
                    add("<circle cx=\"\(n(x(t)))\" cy=\"\(n(yOf(layout.tempo(atStep: step))))\" r=\"3.5\" fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"1.2\"/>")
                }
            }
        }
        add("</g>")

        // Time axis.
        add("<g id=\"time-axis\" font-size=\"12\" fill=\"\(faint)\">")
        add("<line x1=\"\(n(gutter))\" y1=\"\(n(bottom))\" x2=\"\(n(gutter + plotWidth))\" y2=\"\(n(bottom))\" stroke=\"#b8c1cc\" stroke-width=\"1\"/>")
        let step = timeStep()
        var t = 0.0
        while t <= layout.total + 1e-9 {
            let tx = x(t)
            add("<line x1=\"\(n(tx))\" y1=\"\(n(bottom))\" x2=\"\(n(tx))\" y2=\"\(n(bottom + 5))\" stroke=\"#b8c1cc\"/>")
            add("<text x=\"\(n(tx))\" y=\"\(n(bottom + 20))\" text-anchor=\"middle\">\(clock(t))</text>")
            t += step
        }
        add("</g>")

        // One lane per cue.
        var laneTop = bottom + 44
        add("<g id=\"cues\">")
        if layout.cues.isEmpty {
            add(text(gutter, laneTop + 14, "No cues in this preset: clicks only.", size: 13, fill: muted))
            laneTop += 30
        } else {
            add(text(24, laneTop - 12, "Cues", size: 13, weight: "700", fill: ink))
        }
        for (index, cue) in layout.cues.enumerated() {
            let colour = palette[index % palette.count]
            let shown = cue.isRecording ? "♪ " + shortened(cue.text, 18) : "“" + shortened(cue.text, 18) + "”"
            add("<g class=\"cue\">")
            add("<title>\(escape(cue.text))</title>")
            add(text(gutter - 12, laneTop + 13, shown, size: 13, weight: "600", fill: colour, anchor: "end"))
            add(text(gutter - 12, laneTop + 27, cueRule(cue), size: 10.5, fill: faint, anchor: "end"))
            add("<rect x=\"\(n(gutter))\" y=\"\(n(laneTop + 2))\" width=\"\(n(plotWidth))\" height=\"22\" rx=\"4\" fill=\"#f4f6f8\"/>")
            let perSet = layout.count(of: cue)
            let cueSeconds = Double(cue.steps) * 60 / layout.plan.cadence
            let markWidth = max(2, cueSeconds / max(layout.total, 1e-9) * plotWidth)
            for set in layout.sets where perSet > 0 {
                let setWidth = x(set.end) - x(set.start)
                if Double(perSet) * (markWidth + 1) > setWidth {
                    // Too many to draw apart: a solid stripe over the set says "all the way through".
                    add("<rect x=\"\(n(x(set.start)))\" y=\"\(n(laneTop + 6))\" width=\"\(n(setWidth))\" height=\"14\" rx=\"2\" fill=\"\(colour)\" fill-opacity=\"0.35\"/>")
                    continue
                }
                for step in cue.startSteps(inSetOf: layout.stepsPerSet) {
                    let t = set.start + layout.timeInSet(ofStep: step)
                    add("<rect x=\"\(n(x(t)))\" y=\"\(n(laneTop + 6))\" width=\"\(n(markWidth))\" height=\"14\" rx=\"1.5\" fill=\"\(colour)\"/>")
                }
            }
            add("</g>")
            laneTop += 36
        }
        add("</g>")

        // Footer.
        let footerY = laneTop + 16
        add(text(24, footerY, "Total \(clock(layout.total)) — \(layout.stepsPerSet * plan.sets) steps in \(plan.sets) set\(plan.sets == 1 ? "" : "s"), \(cueTotal) cue\(cueTotal == 1 ? "" : "s")", size: 12, fill: muted))
        add(text(width - 24, footerY, "StrideCue", size: 11, weight: "600", fill: "#b3bcc7", anchor: "end"))
        let height = footerY + 20

        out = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">",
            "<title>\(escape(plan.name)) — StrideCue plan</title>",
            "<defs><pattern id=\"rest\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                + "<rect width=\"8\" height=\"8\" fill=\"#f5f6f8\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#e4e7ec\" stroke-width=\"3\"/></pattern></defs>",
            "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>",
        ] + body + ["</svg>"]
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Pieces

    func band(_ from: Double, _ to: Double, _ top: Double, _ height: Double, fill: String, title: String) -> String {
        "<rect x=\"\(n(x(from)))\" y=\"\(n(top))\" width=\"\(n(max(0.5, x(to) - x(from))))\" height=\"\(n(height))\" fill=\"\(fill)\"><title>\(escape(title))</title></rect>"
    }

    func text(_ x: Double, _ y: Double, _ content: String, size: Double, weight: String = "400", fill: String, anchor: String = "start") -> String {
        var attributes = "x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\""
        if weight != "400" { attributes += " font-weight=\"\(weight)\"" }
        attributes += " fill=\"\(fill)\""
        if anchor != "start" { attributes += " text-anchor=\"\(anchor)\"" }
        return "<text \(attributes)>\(escape(content))</text>"
    }

    /// Tempo at the set's steps, sampled along a ramp, to the set's end.
    func tempoPoints(_ set: PlanLayout.SetTiming) -> [(time: Double, tempo: Double)] {
        let steps = layout.stepsPerSet
        let ramp = min(layout.plan.ramp?.steps ?? 0, steps)
        var points: [(time: Double, tempo: Double)] = []
        if ramp > 0 {
            let samples = min(ramp, 80)
            for j in 0...samples {
                let step = 1 + Int((Double(j) * Double(ramp) / Double(samples)).rounded())
                guard step <= steps else { break }
                points.append((set.start + layout.timeInSet(ofStep: step), layout.tempo(atStep: step)))
            }
        } else {
            points.append((set.start, layout.plan.cadence))
        }
        points.append((set.end, layout.tempo(atStep: steps)))
        return points
    }

    /// Lowest and highest tempo shown and the grid spacing: round tens with room around the line.
    func tempoAxis() -> (Double, Double, Double) {
        let plan = layout.plan
        let tempos = [plan.cadence, plan.ramp?.from ?? plan.cadence]
        var low = ((tempos.min()! - 8) / 10).rounded(.down) * 10
        var high = ((tempos.max()! + 8) / 10).rounded(.up) * 10
        while high - low < 40 { low -= 10; high += 10 }
        low = max(0, low)
        let step = high - low > 120 ? 20.0 : 10.0
        low = (low / step).rounded(.down) * step
        high = (high / step).rounded(.up) * step
        return (low, high, step)
    }

    /// Seconds between labels on the time axis: a round value giving at most nine labels.
    func timeStep() -> Double {
        for step in [1.0, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1_200, 1_800, 3_600, 7_200, 10_800, 21_600] {
            if layout.total / step <= 8 { return step }
        }
        return 43_200
    }

    func tempoRange() -> String {
        let plan = layout.plan
        guard let ramp = plan.ramp else { return "\(spm(plan.cadence)) spm" }
        return "\(spm(ramp.from)) → \(spm(plan.cadence)) spm"
    }

    func cueRule(_ cue: PlanCue) -> String {
        switch cue.placement {
        case .every(let every, let offset): return "every \(every) steps from step \(offset)"
        case .setStart: return "at each set's start"
        case .setEnd: return "ending each set"
        case .halfway: return "halfway through each set"
        case .step(let k): return "at step \(k) of each set"
        }
    }
}

/// A coordinate with at most one decimal.
private func n(_ value: Double) -> String {
    value < 0 ? "-" + decimal(-value, places: 1) : decimal(value, places: 1)
}

private func shortened(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
}

/// Text for XML content and attribute values.
func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n", "\t": out += " "
        default:
            // XML 1.0 allows no other control characters, even escaped: shown as text instead,
            // so a preset's hidden escape sequence is seen, not lost.
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
                continue
            }
            if scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
