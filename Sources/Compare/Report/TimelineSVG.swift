import Foundation

/// The timeline as an inline SVG: one stacked bar per slice of the window
/// (clean, accepted only, unexpected, not judged), gaps as dashed lines.
public enum TimelineSVG {
    static let width = 1000.0
    static let height = 230.0
    static let left = 48.0
    static let right = 16.0
    static let top = 16.0
    static let bottom = 64.0

    static let colors: [(ComparisonOutcome, String, String)] = [
        (.clean, "#2da44e", "clean"),
        (.accepted, "#d4a72c", "accepted only"),
        (.unexpected, "#cf222e", "unexpected divergence"),
        (.unverified, "#8c959f", "not judged"),
    ]

    public static func render(_ timeline: Report.Timeline) -> String {
        typealias F = ReportFormatting
        guard let start = timeline.start, let end = timeline.end, !timeline.buckets.isEmpty else {
            return "<p class=\"none\">No comparison in the window.</p>"
        }
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        // An even scale (above 1) so that the middle grid line is a whole count.
        let tallest = max(1, timeline.buckets.map(\.total).max() ?? 1)
        let maximum = tallest > 1 && tallest % 2 == 1 ? tallest + 1 : tallest
        let slot = plotWidth / Double(timeline.buckets.count)
        let barWidth = max(1, slot * 0.8)
        var s: [String] = []
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" style=\"width:100%;height:auto\" role=\"img\" aria-label=\"Comparisons over time by outcome\">")
        // Axes and grid.
        for fraction in [0.0, 0.5, 1.0] {
            let y = top + plotHeight * (1 - fraction)
            if maximum == 1 && fraction == 0.5 { continue }
            s.append("<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(width - right))\" y2=\"\(n(y))\" stroke=\"#d8dee4\" stroke-width=\"1\"/>")
            let label = String(Int(Double(maximum) * fraction))
            s.append("<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(label)</text>")
        }
        // Bars.
        for (i, bucket) in timeline.buckets.enumerated() where bucket.total > 0 {
            let x = left + slot * Double(i) + (slot - barWidth) / 2
            var y = top + plotHeight
            for (outcome, color, label) in colors {
                let count = bucket[outcome]
                guard count > 0 else { continue }
                let h = plotHeight * Double(count) / Double(maximum)
                y -= h
                let title = "\(F.clockTime(bucket.start))–\(F.clockTime(bucket.end)): \(count) \(label)"
                s.append("<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(barWidth))\" height=\"\(n(h))\" fill=\"\(color)\"><title>\(HTMLReport.escape(title))</title></rect>")
            }
        }
        // Gaps.
        let span = end.timeIntervalSince(start)
        for time in timeline.gapTimes {
            let fraction = span > 0 ? min(1, max(0, time.timeIntervalSince(start) / span)) : 0.5
            let x = left + plotWidth * fraction
            s.append("<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(top + plotHeight))\" stroke=\"#8250df\" stroke-width=\"2\" stroke-dasharray=\"5 4\"><title>gap at \(F.isoTime(time))</title></line>")
        }
        // Time axis.
        let axisY = top + plotHeight + 18
        s.append("<text x=\"\(n(left))\" y=\"\(n(axisY))\" text-anchor=\"start\">\(F.clockTime(start))</text>")
        if span > 0 {
            s.append("<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(axisY))\" text-anchor=\"middle\">\(F.clockTime(start.addingTimeInterval(span / 2)))</text>")
            s.append("<text x=\"\(n(width - right))\" y=\"\(n(axisY))\" text-anchor=\"end\">\(F.clockTime(end))</text>")
        }
        let dayLabel = F.day(start) == F.day(end) ? F.day(start) : "\(F.day(start)) to \(F.day(end))"
        s.append("<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(axisY + 16))\" text-anchor=\"middle\">\(dayLabel) (UTC) · comparisons per slice</text>")
        // Legend.
        var lx = left
        let ly = height - 10
        for (_, color, label) in colors {
            s.append("<rect x=\"\(n(lx))\" y=\"\(n(ly - 10))\" width=\"12\" height=\"12\" fill=\"\(color)\"/>")
            s.append("<text x=\"\(n(lx + 17))\" y=\"\(n(ly))\">\(label)</text>")
            lx += 30 + Double(label.count) * 7
        }
        s.append("<line x1=\"\(n(lx))\" y1=\"\(n(ly - 4))\" x2=\"\(n(lx + 16))\" y2=\"\(n(ly - 4))\" stroke=\"#8250df\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/>")
        s.append("<text x=\"\(n(lx + 22))\" y=\"\(n(ly))\">gap</text>")
        s.append("</svg>")
        return s.joined(separator: "\n")
    }

    /// A coordinate with at most one decimal, without a locale.
    static func n(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(abs(tenths % 10))"
    }
}
