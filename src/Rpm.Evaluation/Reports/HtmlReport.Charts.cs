using System.Globalization;
using System.Text;

namespace Rpm.Evaluation;

// The report's inline SVG charts (no script): bars with interval whiskers, and a scatter of quality against cost.
internal static partial class HtmlReport
{
    /// <summary>An inline SVG horizontal bar chart with each bar's interval as a whisker; the clearly best bar in green.</summary>
    private static string BarChart(string id, IReadOnlyList<Bar> bars, Func<double, string> format, double? fullScale)
    {
        const int LabelWidth = 130, BarArea = 190, ValueWidth = 70, RowHeight = 26;
        int height = (Math.Max(1, bars.Count) * RowHeight) + 8;
        double max = fullScale ?? Math.Max(bars.Count == 0 ? 0 : bars.Max(b => Math.Max(b.Value, b.Interval?.Upper ?? 0)), 1e-12);
        double X(double value) => LabelWidth + (Math.Clamp(value / max, 0, 1) * BarArea);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{E(id)}\" role=\"img\" aria-label=\"{E(id)}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {LabelWidth + BarArea + ValueWidth} {height}\" width=\"100%\">");
        for (int i = 0; i < bars.Count; i++)
        {
            Bar bar = bars[i];
            int y = (i * RowHeight) + 4;
            string tip = bar.Interval is null ? format(bar.Value) : $"{format(bar.Value)} [{format(bar.Interval.Lower)}, {format(bar.Interval.Upper)}], n = {bar.Interval.Count:N0}";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\" font-size=\"12\" fill=\"{Ink}\">{E(bar.Label)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 3}\" width=\"{BarArea}\" height=\"16\" fill=\"#eef0f4\" rx=\"3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 3}\" width=\"{X(bar.Value) - LabelWidth:0.##}\" height=\"16\" fill=\"{(bar.Highlight ? Green : Blue)}\" rx=\"3\"><title>{E(bar.Label)}: {E(tip)}</title></rect>");
            if (bar.Interval is not null)
            {
                double x1 = X(bar.Interval.Lower), x2 = X(bar.Interval.Upper);
                svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{x1:0.##} {y + 11}H{x2:0.##}M{x1:0.##} {y + 6}V{y + 16}M{x2:0.##} {y + 6}V{y + 16}\" stroke=\"{Ink}\" stroke-width=\"1.5\" fill=\"none\"/>");
            }

            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + BarArea + 6}\" y=\"{y + 15}\" font-size=\"12\" fill=\"{Ink}\">{E(format(bar.Value))}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>An inline SVG scatter plot: the metric (with its interval) against a logarithmic spend axis; zero spend on a "free" line.</summary>
    private static string Scatter(string id, string xTitle, string yTitle, IReadOnlyList<Point> points, Func<double, string> format, bool bounded)
    {
        const int Width = 460, Height = 300, Left = 62, Right = Width - 110, Top = 14, Bottom = Height - 46;
        const int FreeX = Left + 14, LogLeft = Left + 76, LineHeight = 13;
        double[] positive = [.. points.Where(p => p.X > 0).Select(p => p.X)];
        int lo = positive.Length == 0 ? 0 : (int)Math.Floor(Math.Log10(positive.Min()));
        int hi = positive.Length == 0 ? 1 : (int)Math.Ceiling(Math.Log10(positive.Max()));
        hi = Math.Max(hi, lo + 1);
        double X(double v) => v <= 0 ? FreeX : LogLeft + ((Math.Log10(v) - lo) / (hi - lo) * (Right - LogLeft));

        // Methods that spend nothing stand side by side on the free line (10 px apart), so each dot and interval shows.
        string[] free = [.. points.Where(p => p.X <= 0).Select(p => p.Label)];
        double PointX(Point p) => p.X > 0 ? X(p.X) : FreeX + (Math.Min(Array.IndexOf(free, p.Label), 5) * 10);
        var (yMin, yMax, yStep) = NiceRange(
            points.Count == 0 ? 0 : points.Min(p => p.Interval?.Lower ?? p.Y),
            points.Count == 0 ? 1 : points.Max(p => p.Interval?.Upper ?? p.Y),
            bounded);
        double Y(double v) => Bottom - ((v - yMin) / (yMax - yMin) * (Bottom - Top));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{E(id)}\" class=\"scatter\" role=\"img\" aria-label=\"{E(id)}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"100%\">");
        for (double v = yMin; v <= yMax + (yStep / 1000); v += yStep)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{Left} {Y(v):0.##}H{Right}\" stroke=\"{Grid}\"/><text x=\"{Left - 6}\" y=\"{Y(v) + 4:0.##}\" text-anchor=\"end\" font-size=\"11\" fill=\"{Muted}\">{Math.Round(v, 6).ToString("0.###", CultureInfo.InvariantCulture)}</text>");
        }

        int step = Math.Max(1, (hi - lo + 5) / 6);
        for (int k = lo; k <= hi; k += step)
        {
            double x = X(Math.Pow(10, k));
            svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{x:0.##} {Top}V{Bottom}\" stroke=\"{Grid}\"/><text x=\"{x:0.##}\" y=\"{Bottom + 16}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{Muted}\">{E(format(Math.Pow(10, k)))}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{FreeX} {Top}V{Bottom}\" stroke=\"{Grid}\" stroke-dasharray=\"3 3\"/><text x=\"{FreeX}\" y=\"{Bottom + 16}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{Muted}\">free</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{Left} {Top}V{Bottom}H{Right}\" stroke=\"{Muted}\" fill=\"none\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Right) / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{Ink}\">{E(xTitle)} (log scale)</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {(Top + Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"{Ink}\">{E(yTitle)}</text>");

        // Methods at the same spot share one label; labels that would overlap are moved down a line.
        var spots = points.GroupBy(p => (X: Math.Round(PointX(p) / 3), Y: Math.Round(Y(p.Y) / 3))).ToList();
        var placed = new List<(double X, double Y, double Width)>();
        foreach (var spot in spots.OrderBy(g => Y(g.First().Y)))
        {
            Point first = spot.First();
            double x = PointX(first), y = Y(first.Y);
            string color = spot.Any(p => p.Label == "rpm") ? Blue : Muted;
            foreach (Point p in spot)
            {
                if (p.Interval is not null)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{PointX(p):0.##} {Y(p.Interval.Lower):0.##}V{Y(p.Interval.Upper):0.##}\" stroke=\"{(p.Label == "rpm" ? Blue : Muted)}\" stroke-width=\"1.5\"/>");
                }

                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{PointX(p):0.##}\" cy=\"{Y(p.Y):0.##}\" r=\"5\" fill=\"{(p.Label == "rpm" ? Blue : Muted)}\"><title>{E(p.Label)}: {ReportFormat.Metric(p.Y)} at {E(format(p.X))}</title></circle>");
            }

            // Beside the point if that line is free and inside the plot, else the nearest free line below or above it.
            // A label that would leave the chart on the right goes to the left of its point.
            string label = string.Join(", ", spot.Select(p => p.Label));
            double width = label.Length * 6.2;
            double left = x + 8 + width <= Width - 2 ? x + 8 : x - 8 - width;
            double labelY = Enumerable.Range(0, 40).Select(i => y + 4 + ((i % 2 == 0 ? 1 : -1) * ((i + 1) / 2) * LineHeight))
                .Where(c => c >= Top + 10 && c <= Bottom - 4)
                .FirstOrDefault(c => !placed.Any(b => Math.Abs(b.Y - c) < LineHeight && left < b.X + b.Width && b.X < left + width), Math.Clamp(y + 4, Top + 10, Bottom - 4));

            placed.Add((left, labelY, width));
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left:0.##}\" y=\"{labelY:0.##}\" font-size=\"11\" fill=\"{(color == Blue ? Blue : Ink)}\">{E(label)}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    // An axis from below the lowest to above the highest value in steps of 1, 2, 2.5 or 5 times a power of ten (at most
    // about five steps); a bounded metric (accuracy, F1, ROUGE) never goes above 1 or below 0.
    private static (double Min, double Max, double Step) NiceRange(double low, double high, bool bounded)
    {
        if (high - low < 1e-9)
        {
            low -= 0.05;
            high += 0.05;
        }

        double raw = (high - low) / 4;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        double min = Math.Max(0, Math.Floor(low / step) * step);
        double max = Math.Ceiling(high / step) * step;
        if (bounded)
        {
            max = Math.Min(max, Math.Max(1, min + step));
        }

        return (min, Math.Max(max, min + step), step);
    }
}
