using System.Text;

namespace Reassure.Reports;

/// <summary>The page frame: head with inline CSS, heading, notes, then the sections of <see cref="ReportSections"/>.</summary>
internal static class ReportHtml
{
    internal const string Css = """
        body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:20px auto;max-width:1150px;color:#222;line-height:1.4}
        h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
        table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
        th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}.note{color:#555;font-size:.9em}
        .chart svg{max-width:100%;height:auto;display:block;margin:.4em 0}
        .pair{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.pair table{margin-top:.4em}
        .strip{display:flex;flex-wrap:wrap;gap:2px;margin:.4em 0;max-width:560px}.strip span{width:12px;height:12px;display:inline-block}
        .strip .f{background:#2ca02c}.strip .u{background:#c62828}
        .summary td:first-child{font-weight:bold}
        details{margin:.4em 0}summary{cursor:pointer}
        """;

    public static string Write(RepairReport report)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<title>").Append(Html.Text(report.Title)).Append("</title>\n");
        h.Append("<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n");
        h.Append("<h1>").Append(Html.Text(report.Title)).Append("</h1>\n");
        foreach (var note in report.Options.Notes) h.Append("<p class=\"note\">").Append(Html.Text(note)).Append("</p>\n");
        var sections = new ReportSections(h, report);
        sections.Summary();
        if (report.Area is not null) sections.Area(report.Area);
        else sections.Rows();
        sections.Evaluation();
        sections.Patches();
        sections.Time();
        h.Append("<p class=\"note\">Written by Reassure.Reports. Charts: ScottPlot, inline SVG; no external resources.</p>\n");
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }
}
