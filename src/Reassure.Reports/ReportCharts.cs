using System.Globalization;
using ScottPlot;

namespace Reassure.Reports;

/// <summary>The report's charts, drawn by ScottPlot and returned as inline SVG.</summary>
internal static class ReportCharts
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly Color Before = Color.FromHex("#9e9e9e");
    private static readonly Color After = Color.FromHex("#1f77b4");
    private static readonly Color Zero = Color.FromHex("#2ca02c");
    private static readonly Color Changed = Color.FromHex("#ff7f0e");
    private const int Width = 560, Height = 320;

    /// <summary>A sans-serif face for measuring text (the page's CSS names the same one first).</summary>
    private const string FontName = "DejaVu Sans";

    /// <summary>Grouped bars: accuracy per class before (grey) and after (blue) repair, in percent.</summary>
    public static string AccuracyPerClass(EvaluationFigures e, string id)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        int classes = e.PerClass.Length;
        for (int c = 0; c < classes; c++)
        {
            if (e.PerClass[c] == 0) continue;
            bars.Add(new Bar { Position = 3 * c, Value = 100 * e.ClassBefore(c), FillColor = Before, LineWidth = 0 });
            bars.Add(new Bar { Position = 3 * c + 1, Value = 100 * e.ClassAfter(c), FillColor = After, LineWidth = 0 });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, classes).Select(c => 3 * c + 0.5).ToArray(),
            Enumerable.Range(0, classes).Select(c => c.ToString(Inv)).ToArray());
        double lowest = bars.Count == 0 ? 0 : bars.Min(b => b.Value);
        double floor = Math.Max(0, Math.Floor((lowest - 5) / 10) * 10);
        plot.Axes.SetLimits(-1, 3 * classes - 1, floor, 100.5);
        plot.Title("Accuracy per class (%)");
        plot.XLabel("class");
        plot.YLabel("accuracy (%)");
        foreach (var (text, color) in new[] { ("before", Before), ("after", After) })
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = text, FillColor = color });
        plot.ShowLegend(Edge.Bottom); // outside the data area: the bars fill it
        plot.Legend.Orientation = Orientation.Horizontal;
        return Svg(plot, id);
    }

    /// <summary>
    /// Bars on a log10 count axis (the exact-zero bar is usually orders of magnitude taller than the rest): rows with
    /// output change exactly 0, then rows per decade of the change; each bar is labelled with its count.
    /// </summary>
    public static string OutputChange(ChangeHistogram h, string id)
    {
        var plot = new Plot();
        const double Base = -0.3; // log10(0.5): a bar of one row still shows
        var counts = new List<(int Count, Color Color)> { (h.Zero, Zero) };
        counts.AddRange(h.Decades.Select(c => (c, Changed)));
        var bars = counts.Select((c, i) => new Bar
        {
            Position = i,
            ValueBase = Base,
            Value = c.Count == 0 ? Base : Math.Log10(c.Count),
            FillColor = c.Color,
            LineWidth = 0,
            Label = c.Count.ToString(Inv),
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray(),
            ["exactly 0", .. Enumerable.Range(0, h.Decades.Length).Select(i => h.Label(i) + " to " + h.Label(i + 1))]);
        int top = (int)Math.Ceiling(Math.Log10(Math.Max(1, counts.Max(c => c.Count))) + 0.25);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, top + 1).Select(k => (double)k).ToArray(),
            Enumerable.Range(0, top + 1).Select(k => Math.Pow(10, k).ToString("N0", Inv)).ToArray());
        plot.Axes.SetLimits(-0.6, bars.Count - 0.4, Base, top);
        plot.Title("Output change max_i |f_repaired(x)_i - f(x)_i|");
        plot.XLabel("change (= 0: output bit-identical to the original)");
        plot.YLabel("rows (log scale)");
        Legend(plot, Alignment.UpperRight, ("exactly 0", Zero), ("changed", Changed));
        return Svg(plot, id);
    }

    /// <summary>Markers on a log10 axis: norm and gamma of every patch.</summary>
    public static string Patches(IReadOnlyList<ReportPatch> patches, string id)
    {
        var plot = new Plot();
        Series(plot, patches.Where(p => p.Norm > 0).Select(p => ((double)p.Index, Math.Log10(p.Norm))).ToList(), "norm", After, MarkerShape.FilledCircle);
        Series(plot, patches.Where(p => p.Gamma > 0).Select(p => ((double)p.Index, Math.Log10(p.Gamma))).ToList(), "gamma", Changed, MarkerShape.FilledSquare);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => "1e" + Math.Round(v, 1).ToString("0.#", Inv),
            IntegerTicksOnly = true,
        };
        plot.Title("Norm and gamma per patch (log scale)");
        plot.XLabel("patch");
        plot.YLabel("value");
        plot.ShowLegend(Alignment.UpperRight);
        return Svg(plot, id);
    }

    /// <summary>Bars: wall time per stage.</summary>
    public static string Stages(IReadOnlyList<ReportStage> stages, string id)
    {
        var plot = new Plot();
        // The last stage is the total: grey, beside the stages it sums.
        plot.Add.Bars(stages.Select((s, i) => new Bar { Position = i, Value = s.Seconds, FillColor = i == stages.Count - 1 ? Before : After, LineWidth = 0 }).ToList());
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, stages.Count).Select(i => (double)i).ToArray(), stages.Select(s => s.Name).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title("Time by stage (s)");
        plot.YLabel("seconds");
        return Svg(plot, id);
    }

    private static void Series(Plot plot, List<(double X, double Y)> points, string label, Color color, MarkerShape shape)
    {
        if (points.Count == 0) return;
        var s = plot.Add.ScatterPoints(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
        s.Color = color;
        s.MarkerShape = shape;
        s.MarkerSize = 5;
        s.LegendText = label;
    }

    private static void Legend(Plot plot, Alignment where, params (string Text, Color Color)[] items)
    {
        foreach (var (text, color) in items)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = text, FillColor = color });
        plot.ShowLegend(where);
    }

    internal static string Svg(Plot plot, string id)
    {
        plot.Font.Set(FontName);
        plot.Legend.FontName = FontName;
        return SvgScope.Inline(plot.GetSvgXml(Width, Height), id + "-");
    }
}
