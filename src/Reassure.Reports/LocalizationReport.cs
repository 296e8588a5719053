using System.Globalization;
using System.Text;
using Reassure.Causality;
using Reassure.Formats;
using ScottPlot;

namespace Reassure.Reports;

/// <summary>What a <see cref="LocalizationReport"/> shows.</summary>
public sealed record LocalizationReportOptions
{
    /// <summary>The page heading; default "Reassure causal localization" and the model's file name.</summary>
    public string? Title { get; init; }

    /// <summary>The model file, for the heading.</summary>
    public string? Model { get; init; }

    /// <summary>Neurons listed per layer in the ranking table.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Lines shown under the heading (how the run was made).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>
/// The causal fault localization report (<c>reassure localize --report</c>): one self-contained HTML page with, per
/// hidden layer, a chart of the causal effect of every neuron (by neuron index), the curves M_j(v) of the top neurons
/// and the ranking table. Charts are inline SVG (ScottPlot); every string that may come from a file is HTML-escaped.
/// </summary>
public sealed class LocalizationReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly Color Bar = Color.FromHex("#1f77b4");
    private static readonly Color Top = Color.FromHex("#ff7f0e");

    private LocalizationReport(LocalizationResult result, LocalizationReportOptions options)
    {
        Result = result;
        Options = options;
    }

    /// <summary>The localization shown.</summary>
    public LocalizationResult Result { get; }

    /// <summary>What the report was asked to show.</summary>
    public LocalizationReportOptions Options { get; }

    /// <summary>The page heading.</summary>
    public string Title => Options.Title ?? (Options.Model is null ? "Reassure causal localization" : "Reassure causal localization: " + Path.GetFileName(Options.Model));

    /// <summary>The report of a localization.</summary>
    public static LocalizationReport From(LocalizationResult result, LocalizationReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new LocalizationReport(result, options ?? new LocalizationReportOptions());
    }

    /// <summary>Writes the HTML page to <paramref name="path"/> atomically.</summary>
    public void SaveHtml(string path) => AtomicFile.WriteAllText(path, ToHtml());

    /// <summary>The self-contained HTML page.</summary>
    public string ToHtml()
    {
        var r = Result;
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<title>").Append(Html.Text(Title)).Append("</title>\n");
        h.Append("<style>\n").Append(ReportHtml.Css).Append("\n</style>\n</head>\n<body>\n");
        h.Append("<h1>").Append(Html.Text(Title)).Append("</h1>\n");
        foreach (var note in Options.Notes) h.Append("<p class=\"note\">").Append(Html.Text(note)).Append("</p>\n");
        h.Append("<table class=\"summary\">\n");
        Row(h, "rows", Html.Number(r.Rows));
        Row(h, "grid values per neuron", Html.Number(r.GridSteps));
        Row(h, "neurons", Html.Number(r.Ranked.Count));
        Row(h, "baseline mean margin", Html.Number(r.BaselineMeanMargin));
        Row(h, "time", Html.Seconds(r.Elapsed.TotalSeconds));
        h.Append("</table>\n");
        h.Append("<p class=\"note\">Effect of neuron j: max_v M_j(v) - min_v M_j(v), where M_j(v) is the label margin (label score minus the best other score) ")
            .Append("averaged over the rows under the intervention do(a_j = v), v on an even grid over the range of a_j on the rows.</p>\n");
        int chart = 0;
        foreach (var layer in r.Layers)
        {
            h.Append("<h2>Layer ").Append(Html.Number(layer.Index)).Append(": ").Append(Html.Text(layer.Name)).Append("</h2>\n");
            var top = layer.Ranked.Take(Math.Max(1, Options.Top)).ToList();
            h.Append("<div class=\"chart\">").Append(Effects(layer, top, $"loc{chart++}")).Append("</div>\n");
            h.Append("<div class=\"chart\">").Append(Curves(top.Take(5).ToList(), r.BaselineMeanMargin, $"loc{chart++}")).Append("</div>\n");
            h.Append("<table>\n<tr><th>rank</th><th>neuron</th><th>effect</th><th>a_j on the rows</th><th>M at min</th><th>M at max</th><th>best v</th><th>M at best v</th></tr>\n");
            for (int k = 0; k < top.Count; k++)
            {
                var e = top[k];
                int best = Best(e);
                h.Append("<tr><td class=\"n\">").Append(k + 1).Append("</td><td class=\"n\">").Append(Html.Number(e.Neuron))
                    .Append("</td><td class=\"n\">").Append(Html.Number(e.Effect))
                    .Append("</td><td>[").Append(Html.Number(e.ObservedMin)).Append(", ").Append(Html.Number(e.ObservedMax))
                    .Append("]</td><td class=\"n\">").Append(Html.Number(e.MeanMargins[0]))
                    .Append("</td><td class=\"n\">").Append(Html.Number(e.MeanMargins[^1]))
                    .Append("</td><td class=\"n\">").Append(Html.Number(e.Grid[best]))
                    .Append("</td><td class=\"n\">").Append(Html.Number(e.MeanMargins[best])).Append("</td></tr>\n");
            }
            h.Append("</table>\n");
        }
        h.Append("<p class=\"note\">Written by Reassure.Reports. Charts: ScottPlot, inline SVG; no external resources.</p>\n");
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    /// <summary>The grid index with the largest mean margin (first on ties).</summary>
    public static int Best(NeuronEffect e)
    {
        ArgumentNullException.ThrowIfNull(e);
        int best = 0;
        for (int k = 1; k < e.MeanMargins.Count; k++) if (e.MeanMargins[k] > e.MeanMargins[best]) best = k;
        return best;
    }

    private static void Row(StringBuilder h, string name, string value) =>
        h.Append("<tr><td>").Append(Html.Text(name)).Append("</td><td class=\"n\">").Append(value).Append("</td></tr>\n");

    /// <summary>Bars: the effect of every neuron by index; the top ones in orange.</summary>
    private static string Effects(LayerLocalization layer, IReadOnlyList<NeuronEffect> top, string id)
    {
        var plot = new Plot();
        var highlighted = top.Select(e => e.Neuron).ToHashSet();
        plot.Add.Bars(layer.Neurons.Select(e => new ScottPlot.Bar
        {
            Position = e.Neuron,
            Value = e.Effect,
            FillColor = highlighted.Contains(e.Neuron) ? Top : Bar,
            LineWidth = 0,
        }).ToList());
        plot.Axes.Margins(bottom: 0);
        plot.Title("Causal effect per neuron (spread of the mean margin)");
        plot.XLabel("neuron");
        plot.YLabel("effect");
        return ReportCharts.Svg(plot, id);
    }

    /// <summary>Lines: the mean margin M_j(v) over the grid for the top neurons, with the baseline.</summary>
    private static string Curves(IReadOnlyList<NeuronEffect> top, double baseline, string id)
    {
        var plot = new Plot();
        foreach (var e in top)
        {
            var s = plot.Add.Scatter(e.Grid.ToArray(), e.MeanMargins.ToArray());
            s.LegendText = string.Create(Inv, $"neuron {e.Neuron}");
            s.MarkerSize = 3;
        }
        var line = plot.Add.HorizontalLine(baseline);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Color.FromHex("#9e9e9e");
        line.LegendText = "baseline";
        plot.Title("Mean margin under do(a_j = v), top neurons");
        plot.XLabel("v");
        plot.YLabel("mean margin");
        plot.ShowLegend(Alignment.UpperRight);
        return ReportCharts.Svg(plot, id);
    }
}
