using System.Globalization;
using System.Text;

namespace Reassure.Reports;

/// <summary>The report's sections, appended to one page.</summary>
internal sealed class ReportSections(StringBuilder h, RepairReport report)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int MaxRowsShown = 1000;

    public void Summary()
    {
        h.Append("<h2>Summary</h2>\n<table class=\"summary\">\n");
        if (report.Options.Model is not null) Line("model", Html.Text(Path.GetFileName(report.Options.Model)));
        if (report.Area is { } a)
        {
            Line("proof after repair", Verdict(a.After));
            Line(a.Strategy == "boxes" ? "violating boxes found / patched" : "violating regions found / patched", $"{Html.Number(a.RegionsFound)} / {Html.Number(a.Patched)}");
        }
        else
        {
            string cls = report.FixedCount == report.Rows.Count ? "ok" : "bad";
            Line("rows fixed", $"<span class=\"{cls}\">{Html.Number(report.FixedCount)} / {Html.Number(report.Rows.Count)}</span>");
        }
        Line("patches", Html.Number(report.Patches.Count));
        if (report.Evaluation is { } e)
        {
            Line("accuracy before &rarr; after", $"{Html.Percent(e.AccuracyBefore)} &rarr; {Html.Percent(e.AccuracyAfter)} on {Html.Number(e.Labelled)} evaluation rows");
            Line("outputs bit-identical (change exactly 0)", $"{Html.Number(e.Unchanged)} of {Html.Number(e.Rows)}");
        }
        if (report.Stages.Count > 0) Line("time", Html.Seconds(report.Stages[^1].Seconds));
        h.Append("</table>\n");
    }

    public void Rows()
    {
        var rows = report.Rows;
        h.Append("<h2>Buggy rows</h2>\n");
        h.Append(Inv, $"<p>{rows.Count(r => r.Fixed)} fixed, {rows.Count(r => !r.Fixed)} not fixed, of {rows.Count} buggy rows.</p>\n");
        if (rows.Count == 0) return;
        // One square per row in input order: green fixed, red not fixed (hover: the row's name and status).
        h.Append("<div class=\"strip\" title=\"rows in input order\">");
        foreach (var r in rows)
            h.Append("<span class=\"").Append(r.Fixed ? "f" : "u").Append("\" title=\"").Append(Html.Text(r.Id)).Append(": ").Append(Html.Text(r.Status)).Append("\"></span>");
        h.Append("</div>\n");
        // Unfixed rows first, then in input order.
        var ordered = rows.Where(r => !r.Fixed).Concat(rows.Where(r => r.Fixed)).Take(MaxRowsShown).ToList();
        bool fold = rows.Count > 20;
        if (fold) h.Append(Inv, $"<details{(rows.Any(r => !r.Fixed) ? " open" : "")}><summary>{rows.Count} rows</summary>\n");
        h.Append("<table>\n<tr><th>row</th><th>status</th><th>code</th><th>patch</th><th>message</th></tr>\n");
        foreach (var r in ordered)
        {
            h.Append("<tr><td>").Append(Html.Text(r.Id)).Append("</td><td class=\"").Append(r.Fixed ? "ok" : "bad").Append("\">").Append(Html.Text(r.Status))
                .Append("</td><td>").Append(Html.Text(r.ErrorCode)).Append("</td><td class=\"n\">").Append(r.Patch is int p ? Html.Number(p) : "")
                .Append("</td><td>").Append(Html.Text(r.Message)).Append("</td></tr>\n");
        }
        h.Append("</table>\n");
        if (rows.Count > MaxRowsShown) h.Append(Inv, $"<p class=\"note\">first {MaxRowsShown} of {rows.Count} rows shown</p>\n");
        if (fold) h.Append("</details>\n");
    }

    public void Area(AreaSummary a)
    {
        h.Append("<h2>Area repair</h2>\n<table class=\"summary\">\n");
        Line("strategy", Html.Text(a.Strategy));
        Line("linear regions searched", Html.Number(a.Searched));
        Line(a.Strategy == "boxes" ? "violating boxes found" : "violating regions found", Html.Number(a.RegionsFound));
        Line("patched", Html.Number(a.Patched));
        Line("property on the original", Verdict(a.Before));
        Line("proof on the repaired network", Verdict(a.After));
        Line("how", Html.Text(a.Detail));
        if (a.Budget is not null) Line("budget hit", Html.Text(a.Budget));
        Line("largest gamma", Html.Number(a.Gamma));
        h.Append("</table>\n");
        if (a.Errors.Count > 0)
        {
            h.Append("<p>Not patched or notes:</p>\n<ul>\n");
            foreach (var e in a.Errors) h.Append("<li>").Append(Html.Text(e)).Append("</li>\n");
            h.Append("</ul>\n");
        }
    }

    public void Evaluation()
    {
        h.Append("<h2>Evaluation rows</h2>\n");
        if (report.Evaluation is not { } e)
        {
            h.Append("<p class=\"note\">No evaluation rows given: no accuracy or output change.</p>\n");
            return;
        }
        h.Append(Inv, $"<p>{e.Rows} rows from <code>{Html.Text(Path.GetFileName(e.Source))}</code>, {e.Labelled} with a label that is an output; ")
            .Append(Inv, $"evaluated in double. Accuracy {Html.Percent(e.AccuracyBefore)} before, {Html.Percent(e.AccuracyAfter)} after repair; ")
            .Append(Inv, $"{e.BecameRight} rows became right, {e.BecameWrong} became wrong.</p>\n");
        h.Append("<div class=\"pair\">\n<div class=\"chart\" id=\"chart-accuracy\">").Append(ReportCharts.AccuracyPerClass(e, "accuracy")).Append("</div>\n");
        h.Append("<table>\n<tr><th>class</th><th>rows</th><th>right before</th><th>before</th><th>right after</th><th>after</th></tr>\n");
        for (int c = 0; c < e.PerClass.Length; c++)
        {
            h.Append(Inv, $"<tr><td class=\"n\">{c}</td><td class=\"n\">{e.PerClass[c]}</td><td class=\"n\">{e.CorrectBefore[c]}</td><td class=\"n\">{Html.Percent(e.ClassBefore(c))}</td>")
                .Append(Inv, $"<td class=\"n\">{e.CorrectAfter[c]}</td><td class=\"n\">{Html.Percent(e.ClassAfter(c))}</td></tr>\n");
        }
        h.Append(Inv, $"<tr><th>all</th><td class=\"n\">{e.Labelled}</td><td class=\"n\">{e.CorrectBefore.Sum()}</td><td class=\"n\">{Html.Percent(e.AccuracyBefore)}</td>")
            .Append(Inv, $"<td class=\"n\">{e.CorrectAfter.Sum()}</td><td class=\"n\">{Html.Percent(e.AccuracyAfter)}</td></tr>\n</table>\n</div>\n");

        var hist = ChangeHistogram.Of(e.OutputChange);
        h.Append("<h3>Output change</h3>\n");
        h.Append(Inv, $"<p><b>{e.Unchanged} of {e.Rows}</b> rows have an output change of exactly 0: outside every patch's support the repaired network returns the original output bit for bit. ")
            .Append(Inv, $"{e.Rows - e.Unchanged} rows changed; largest change {Html.Number(e.OutputChange.DefaultIfEmpty(0).Max())}.</p>\n");
        h.Append("<div class=\"pair\">\n<div class=\"chart\" id=\"chart-change\">").Append(ReportCharts.OutputChange(hist, "change")).Append("</div>\n");
        h.Append("<table>\n<tr><th>change</th><th>rows</th></tr>\n");
        h.Append(Inv, $"<tr><td>exactly 0</td><td class=\"n\">{hist.Zero}</td></tr>\n");
        for (int i = 0; i < hist.Decades.Length; i++)
            h.Append(Inv, $"<tr><td>[{hist.Label(i)}, {hist.Label(i + 1)})</td><td class=\"n\">{hist.Decades[i]}</td></tr>\n");
        h.Append("</table>\n</div>\n");
    }

    public void Patches()
    {
        var patches = report.Patches;
        h.Append("<h2>Patches</h2>\n");
        if (patches.Count == 0)
        {
            h.Append("<p>No patches.</p>\n");
            return;
        }
        h.Append(Inv, $"<p>{patches.Count} patches; norm from {Html.Number(patches.Min(p => p.Norm))} to {Html.Number(patches.Max(p => p.Norm))}, ")
            .Append(Inv, $"gamma from {Html.Number(patches.Min(p => p.Gamma))} to {Html.Number(patches.Max(p => p.Gamma))}")
            .Append(patches.Any(p => p.Verified is not null) ? Verified(patches) : "")
            .Append(".</p>\n");
        h.Append("<div class=\"pair\">\n<div class=\"chart\" id=\"chart-patches\">").Append(ReportCharts.Patches(patches, "patches")).Append("</div>\n<div>\n");
        bool fold = patches.Count > 20;
        if (fold) h.Append(Inv, $"<details><summary>{patches.Count} patches</summary>\n");
        // Area patches fix no listed rows and are proved together (the area section's verdict), not one by one.
        bool pointWise = report.Area is null;
        h.Append("<table>\n<tr><th>#</th><th>region</th><th>norm</th><th>gamma</th>").Append(pointWise ? "<th>rows</th><th>verified</th>" : "").Append("</tr>\n");
        foreach (var p in patches)
        {
            h.Append(Inv, $"<tr><td class=\"n\">{p.Index}</td><td><code>{Html.Text(p.Region)}</code></td><td class=\"n\">{Html.Number(p.Norm)}</td>")
                .Append(Inv, $"<td class=\"n\">{Html.Number(p.Gamma)}</td>");
            if (pointWise)
            {
                h.Append(Inv, $"<td class=\"n\">{p.Rows}</td>")
                    .Append(p.Verified switch { true => "<td class=\"ok\">yes</td>", false => "<td class=\"bad\">no</td>", null => "<td></td>" });
            }
            h.Append("</tr>\n");
        }
        h.Append("</table>\n");
        if (fold) h.Append("</details>\n");
        h.Append("</div>\n</div>\n");
    }

    public void Time()
    {
        h.Append("<h2>Time by stage</h2>\n");
        var stages = report.Stages;
        if (stages.Count == 0) return;
        h.Append("<div class=\"pair\">\n<div class=\"chart\" id=\"chart-time\">").Append(ReportCharts.Stages(stages, "time")).Append("</div>\n");
        h.Append("<table>\n<tr><th>stage</th><th>seconds</th></tr>\n");
        foreach (var s in stages) h.Append(Inv, $"<tr><td>{Html.Text(s.Name)}</td><td class=\"n\">{s.Seconds:0.000}</td></tr>\n");
        h.Append("</table>\n</div>\n");
    }

    private static string Verified(IReadOnlyList<ReportPatch> patches) =>
        string.Create(Inv, $"; {patches.Count(p => p.Verified == true)} of {patches.Count} verified by the independent LP check over the whole region");

    private static string Verdict(string status) =>
        $"<span class=\"{(status == "holds" ? "ok" : "bad")}\">{Html.Text(status)}</span>";

    private void Line(string name, string valueHtml) => h.Append("<tr><td>").Append(name).Append("</td><td>").Append(valueHtml).Append("</td></tr>\n");
}
